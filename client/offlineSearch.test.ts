import { afterAll, describe, expect, it } from 'vitest';
import type { ChatClient } from './ChatClient.ts';
import type { SearchHit, SearchResults } from './search/SearchResults.ts';
import { startWithRoom } from '../test/support/serverHarness.ts';
import { freshDbName, openTestClient, until } from '../test/support/clientHarness.ts';

/*
 * ChatClient.search() over a real server and a Dexie store on fake-indexeddb: the device's index
 * merged with GET /api/search online, the device's alone offline (docs/search.md, "Search on the
 * device").
 */
const cleanup: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const fn of cleanup.reverse()) await fn();
});

const hits = (results: SearchResults): SearchHit[] => results.rooms.flatMap((r) => r.hits);
const found = (results: SearchResults): Record<string, string> => Object.fromEntries(hits(results).map((h) => [h.messageId, h.source]));
const marked = (hit: SearchHit | undefined): string[] => hit?.segments.filter((s) => s.match).map((s) => s.text) ?? [];

describe('search on the device, merged with the server', () => {
  it('merges by id online; answers offline from the index (pending messages too, and after a restart); follows edits, deletions and removal', async () => {
    const { t, ana, ben, roomId } = await startWithRoom();
    cleanup.push(() => t.dispose());
    const notOnDevice = await t.createRoom(ben, [ana]);
    const removedFrom = await t.createRoom(ben, [ana]);
    const dbName = freshDbName('search-ana');
    // No background sync: a room Ana never opens stays on the server only.
    const a: ChatClient = await openTestClient({ serverUrl: t.url, token: ana.token, dbName, background: { enabled: false } });
    const b: ChatClient = await openTestClient({ serverUrl: t.url, token: ben.token, dbName: freshDbName('search-ben'), background: { enabled: false } });
    cleanup.push(() => b.close());
    await a.refreshRooms();

    const room = await a.openRoom(roomId);
    const report = (await room.send({ content: 'The quarterly report is ready' })).id;
    const html = (await room.send({ content: 'lunch <img src=x onerror=alert(1)> plans' })).id;
    const doomed = (await room.send({ content: 'an old topic' })).id;
    const benRoom = await b.openRoom(roomId);
    const fromBen = (await benRoom.send({ content: 'report from Ben' })).id;
    const elsewhere = (await (await b.openRoom(notOnDevice)).send({ content: 'report in a room Ana never opened' })).id;
    const removedRoom = await a.openRoom(removedFrom);
    const secret = (await (await b.openRoom(removedFrom)).send({ content: 'secret plans' })).id;
    for (const id of [report, html, doomed]) await room.whenSent(id);
    await benRoom.whenSent(fromBen);
    await until((c) => room.on('change', c), () => room.getMessage(fromBen) !== null, "Ben's message on Ana's device");
    await until((c) => removedRoom.on('change', c), () => removedRoom.getMessage(secret) !== null, 'the secret on Ana’s device');
    await a.searchIndexed();
    t.server.search.flush();

    // Online: the server's hits and the device's, each message once.
    const online = await a.search('report');
    expect(online.offline).toBe(false);
    expect(found(online)).toEqual({ [report]: 'both', [fromBen]: 'both', [elsewhere]: 'server' });
    expect(online.rooms.map((r) => r.roomId).sort()).toEqual([roomId, notOnDevice].sort());
    expect(online.rooms.find((r) => r.roomId === roomId)?.roomName).toBe(`room of ${ana.name}`);
    expect(hits(online).find((h) => h.messageId === elsewhere)).toMatchObject({ roomId: notOnDevice, senderId: ben.id });
    expect(online.nextCursor).toBeNull();

    // HTML in a message is text in the segments.
    const lunch = hits(await a.search('img'));
    expect(lunch.map((h) => h.messageId)).toEqual([html]);
    expect(lunch[0]?.segments.map((s) => s.text).join('')).toBe('lunch <img src=x onerror=alert(1)> plans');
    expect(marked(lunch[0])).toEqual(['img']);

    // An edit is found by its new words only; a deleted message is not found at all.
    await room.edit(report, { content: 'The annual report is ready' });
    await room.delete(doomed);
    await room.whenSent(report);
    await room.whenSent(doomed);
    await a.searchIndexed();
    t.server.search.flush();
    expect(hits(await a.search('quarterly'))).toEqual([]);
    expect(found(await a.search('annual'))).toEqual({ [report]: 'both' });
    expect(hits(await a.search('topic'))).toEqual([]);

    // Ana is removed from a room: nothing from it, not what she held nor what is said after.
    expect(found(await a.search('secret'))).toEqual({ [secret]: 'both' });
    const removed = await t.api(ben, 'DELETE', `/api/rooms/${removedFrom}/members/${ana.id}`);
    expect(removed.status).toBe(204);
    await until((c) => a.on('rooms', c), () => !a.rooms().some((s) => s.room.id === removedFrom), 'the room to leave Ana’s list');
    await (await b.openRoom(removedFrom)).send({ content: 'more secret plans' });
    t.server.search.flush();
    expect(hits(await a.search('secret'))).toEqual([]);

    // The server stops: the device answers alone, a message sent now (pending) included.
    await t.stop();
    const pending = (await room.send({ content: 'report written on the train' })).id;
    expect(room.messageState(pending)).toEqual({ state: 'pending' });
    await a.searchIndexed();
    const offline = await a.search('report');
    expect(offline.offline).toBe(true);
    expect(found(offline)).toEqual({ [report]: 'local', [fromBen]: 'local', [pending]: 'local' });
    expect(marked(hits(offline).find((h) => h.messageId === pending))).toEqual(['report']);
    expect(hits(await a.search('"written on the"')).map((h) => h.messageId)).toEqual([pending]);
    expect(hits(await a.search('trai', { asYouType: true })).map((h) => h.messageId)).toEqual([pending]);

    // Restarted offline: the start-up pass reads the stored rooms into a new index.
    await a.close();
    const again = await openTestClient({ serverUrl: t.url, token: ana.token, dbName, background: { enabled: false } });
    cleanup.push(() => again.close());
    await again.searchIndexed();
    const restarted = await again.search('report');
    expect(restarted).toMatchObject({ offline: true, indexing: false });
    expect(found(restarted)).toEqual({ [report]: 'local', [fromBen]: 'local', [pending]: 'local' });
    expect(hits(await again.search('topic'))).toEqual([]);
    expect(hits(await again.search('secret'))).toEqual([]);
  }, 60_000);
});
