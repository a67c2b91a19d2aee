import { afterAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import type { ChatRoom } from '../../client/room/ChatRoom.ts';
import { openProvider, startWithRoom, untilDoc } from '../../test/support/serverHarness.ts';
import { FlakyProxy } from '../../test/support/flakyProxy.ts';
import { CommandClient } from '../../test/support/commandClient.ts';
import { freshDbName, openTestClient, until } from '../../test/support/clientHarness.ts';
import { withSegmentedHistory } from '../../test/support/seededRooms.ts';
import { MuxSocket } from '../../test/support/muxSocket.ts';
import { SEGMENT_MAX_MESSAGES, segmentDocName } from '../../shared/roomDoc/segments.ts';
import { getMessage, messageCount } from '../../shared/roomDoc/queries.ts';
import { CloseCode } from '../../shared/protocol/closeCodes.ts';
import { encodeFrame } from '../../shared/protocol/frames.ts';

const M = SEGMENT_MAX_MESSAGES;
const cleanup: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const fn of cleanup.reverse()) await fn();
});

/** Until the head synced and the newest sealed segment (before the open one's first message) is whole on the device. */
async function readSealed(room: ChatRoom, openFirst: string): Promise<void> {
  await until((c) => room.on('change', c), () => room.segmented, 'the head');
  await room.loadHistory({ beforeId: openFirst });
}

describe('sealed segments served from storage', () => {
  it('are read by devices without the server loading them; a write loads one, and its readers still get the change', async () => {
    const { t, ana, ben, roomId } = await startWithRoom();
    cleanup.push(() => t.dispose());
    // Segments 0 and 1 sealed, the open one holds 10: a device keeps segment 1 open too.
    const ids = await withSegmentedHistory(t, roomId, ana.id, 2 * M + 10);
    const sealed = segmentDocName(roomId, 1);
    const openFirst = ids[2 * M] ?? '';
    const target = ids[M + 100] ?? '';

    const anaClient = await openTestClient({ serverUrl: t.url, token: ana.token, dbName: freshDbName('stored-ana') });
    cleanup.push(() => anaClient.close());
    const anaRoom = await anaClient.openRoom(roomId);
    await readSealed(anaRoom, openFirst);
    expect(anaRoom.getMessage(target)?.content).toBe(`history ${target}`);
    const benClient = await openTestClient({ serverUrl: t.url, token: ben.token, dbName: freshDbName('stored-ben') });
    cleanup.push(() => benClient.close());
    const benRoom = await benClient.openRoom(roomId);
    await readSealed(benRoom, openFirst);
    expect(t.server.registry.get(sealed)).toBeUndefined();

    // Ben reacts in segment 1: the server loads it to validate and commit; Ana, still reading from storage, gets it.
    await benRoom.react(target, '🎉');
    await benRoom.whenSent(target);
    await until((c) => anaRoom.on('change', c), () => (anaRoom.getMessage(target)?.reactions['🎉'] ?? []).includes(ben.id), 'the reaction on Ana’s device');
    const loaded = t.server.registry.get(sealed);
    expect(loaded).toBeDefined();
    expect([...(loaded?.peers() ?? [])].map((p) => p.user.id)).toEqual([ben.id]);
  });

  it('gives a device that comes back what changed meanwhile, from storage, and keeps the segment unloaded', async () => {
    const { t, ana, ben, roomId } = await startWithRoom({ PARLEY_ROOM_IDLE_MS: '50' });
    cleanup.push(() => t.dispose());
    const ids = await withSegmentedHistory(t, roomId, ana.id, 2 * M + 10);
    const sealed = segmentDocName(roomId, 1);
    const openFirst = ids[2 * M] ?? '';
    const [deleted, reacted] = [ids[M + 5] ?? '', ids[M + 6] ?? ''];

    const dbName = freshDbName('stored-return');
    let anaClient = await openTestClient({ serverUrl: t.url, token: ana.token, dbName });
    let anaRoom = await anaClient.openRoom(roomId);
    // Ana deletes a message of segment 1: her device's copy carries a deletion (its step 2s do too).
    await readSealed(anaRoom, openFirst);
    await anaRoom.delete(deleted);
    await anaRoom.whenSent(deleted);
    await anaClient.close();

    // While she is away, Ben reacts to another one; the segment unloads again once idle.
    const benClient = await openTestClient({ serverUrl: t.url, token: ben.token, dbName: freshDbName('stored-return-ben') });
    const benRoom = await benClient.openRoom(roomId);
    await readSealed(benRoom, openFirst);
    await until((c) => benRoom.on('change', c), () => benRoom.getMessage(deleted)?.is_deleted === true, 'the deletion on Ben’s device');
    const unloaded = new Promise<void>((resolve) => {
      const off = t.server.registry.onUnloaded((docName) => {
        if (docName !== sealed) return;
        off();
        resolve();
      });
    });
    // The reaction loads the segment on the server; Ben leaves once it is committed there.
    const committed = new Promise<void>((resolve) => {
      const off = t.server.registry.onLoadedDoc((room) => {
        if (room.roomId !== sealed) return;
        off();
        const has = (): boolean => (getMessage(room.doc, reacted)?.reactions['👍'] ?? []).includes(ben.id);
        void untilDoc(room.doc, has).then(() => room.whenCommitted(resolve));
      });
    });
    await benRoom.react(reacted, '👍');
    await committed;
    await benClient.close();
    await unloaded;

    anaClient = await openTestClient({ serverUrl: t.url, token: ana.token, dbName });
    cleanup.push(() => anaClient.close());
    anaRoom = await anaClient.openRoom(roomId);
    await readSealed(anaRoom, openFirst);
    await until((c) => anaRoom.on('change', c), () => (anaRoom.getMessage(reacted)?.reactions['👍'] ?? []).includes(ben.id), 'Ben’s reaction, from storage');
    expect(anaRoom.getMessage(deleted)?.is_deleted).toBe(true);
    expect(t.server.registry.get(sealed)).toBeUndefined();
  });

  it("closes a removed member's channel to a stored segment with Forbidden", async () => {
    const { t, ana, ben, roomId } = await startWithRoom();
    cleanup.push(() => t.dispose());
    await withSegmentedHistory(t, roomId, ana.id, M + 10);
    const mux = await MuxSocket.open(t, ben);
    cleanup.push(() => mux.close());
    await mux.join(roomId);
    const { channel, doc } = await mux.join(segmentDocName(roomId, 0));
    // The whole segment comes from storage as a step 2 and updates.
    let applied = 0;
    await until(
      (c) => {
        mux.raw.ws.on('message', c);
        return () => mux.raw.ws.off('message', c);
      },
      () => {
        const updates = mux.framesOn(channel).flatMap((f) => (f.type === 'update' ? [f.update] : []));
        for (const update of updates.slice(applied)) Y.applyUpdate(doc, update);
        applied = updates.length;
        return messageCount(doc) === M;
      },
      'segment 0, whole',
    );
    expect(t.server.registry.get(segmentDocName(roomId, 0))).toBeUndefined();
    // An up-to-date reader's answer to the greeting changes nothing: it stays on storage.
    mux.send(channel, encodeFrame({ type: 'syncStep2', update: Y.encodeStateAsUpdate(doc, Y.encodeStateVector(doc)) }));

    const closed = mux.closed(channel);
    const removal = await t.api(ana, 'DELETE', `/api/rooms/${roomId}/members/${ben.id}`);
    expect(removal.status).toBe(204);
    expect((await closed).code).toBe(CloseCode.Forbidden);
    expect(t.server.registry.get(segmentDocName(roomId, 0))).toBeUndefined();
  });

  it('a bot edits a message of a sealed segment: a device reading it from storage sees it, and a stock provider on a link that cuts catches up', async () => {
    const { t, ana, ben, roomId } = await startWithRoom();
    cleanup.push(() => t.dispose());
    const ids = await withSegmentedHistory(t, roomId, ana.id, 2 * M + 10);
    const sealed = segmentDocName(roomId, 1);
    const target = ids[M + 42] ?? '';
    const benClient = await openTestClient({ serverUrl: t.url, token: ben.token, dbName: freshDbName('stored-bot') });
    cleanup.push(() => benClient.close());
    const benRoom = await benClient.openRoom(roomId);
    await readSealed(benRoom, ids[2 * M] ?? '');

    // A stock y-websocket provider with no awareness state reads segment 1 through a proxy: from storage too.
    const proxy = await FlakyProxy.start({ host: '127.0.0.1', port: Number(new URL(t.url).port) });
    cleanup.push(() => proxy.close());
    const stock = openProvider(`ws://127.0.0.1:${proxy.port}/sync`, sealed, ben.token);
    stock.awareness.setLocalState(null);
    cleanup.push(() => stock.destroy());
    await untilDoc(stock.doc, (doc) => messageCount(doc) === M);
    expect(t.server.registry.get(sealed)).toBeUndefined();

    // The link cuts; meanwhile Ana's bot edits the message on the command endpoint.
    proxy.cut();
    const bot = await CommandClient.connect(t, ana);
    cleanup.push(async () => void (await bot.close()));
    const edited = await bot.request('edit_message', { room_id: roomId, message_id: target, content: 'edited by the bot' });
    expect(edited.success, JSON.stringify(edited)).toBe(true);
    await until((c) => benRoom.on('change', c), () => benRoom.getMessage(target)?.content === 'edited by the bot', 'the edit on Ben’s device');
    // The edit loaded the segment, and both of Ben's readers stayed on storage: it has no peer.
    const loaded = t.server.registry.get(sealed);
    expect(loaded).toBeDefined();
    expect([...(loaded?.peers() ?? [])]).toEqual([]);

    proxy.heal();
    await untilDoc(stock.doc, (doc) => getMessage(doc, target)?.content === 'edited by the bot');
    expect(messageCount(stock.doc)).toBe(M);
  });
});
