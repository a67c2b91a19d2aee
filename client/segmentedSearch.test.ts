import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../server/storage/openDatabase.ts';
import { openSearchDatabase, searchDbFileOf } from '../server/search/openSearchDatabase.ts';
import { reindexStored } from '../server/search/reindexStored.ts';
import { SEGMENT_MAX_MESSAGES } from '../shared/roomDoc/segments.ts';
import type { SearchResults } from './search/SearchResults.ts';
import { startWithRoom } from '../test/support/serverHarness.ts';
import { freshDbName, openTestClient, until } from '../test/support/clientHarness.ts';
import { seedSegmentedRoom } from '../test/support/seededRooms.ts';

/*
 * Search in a segmented room (docs/protocol.md, "Large rooms: segments"): a message of an old
 * segment this device has not downloaded comes from the server; segments feed the device's index
 * as they open, and then their messages are found by both.
 */
const M = SEGMENT_MAX_MESSAGES;
const cleanup: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const fn of cleanup.reverse()) await fn();
});

const sourceOf = (results: SearchResults, id: string): string | undefined => results.rooms.flatMap((r) => r.hits).find((h) => h.messageId === id)?.source;
/** The message's own word: the random last group of its id (its text is `history <id>`). */
const wordOf = (id: string): string => id.slice(-12);

describe('search in a segmented room', () => {
  it('an old segment not on the device is found on the server; once it opens, by the device too', async () => {
    const { t, ana, roomId } = await startWithRoom();
    cleanup.push(() => t.dispose());
    await t.stop();
    const ids = seedSegmentedRoom(t, roomId, ana.id, 2 * M + 10);
    // A sealed segment nobody opens is indexed by `parley reindex` only (docs/search.md).
    const db = openDatabase(t.config.dbFile);
    const searchDb = openSearchDatabase(searchDbFileOf(t.config.dbFile));
    reindexStored(db, searchDb, { roomId });
    searchDb.close();
    db.close();
    await t.restart();

    const client = await openTestClient({ serverUrl: t.url, token: ana.token, dbName: freshDbName('seg-search'), background: { enabled: false } });
    cleanup.push(() => client.close());
    await client.refreshRooms();
    const room = await client.openRoom(roomId);
    const inNewestSealed = ids[M + 5]!;
    const inOpen = ids[2 * M + 3]!;
    const inOldest = ids[7]!;
    // The open segment and the newest sealed one open with the room (the open one holds less than a page).
    await until((c) => room.on('change', c), () => room.getMessage(inNewestSealed) !== null && room.getMessage(inOpen) !== null, 'segments 1 and 2 on the device');
    await client.searchIndexed();
    expect(room.getMessage(inOldest)).toBeNull();

    expect(sourceOf(await client.search(wordOf(inOpen)), inOpen)).toBe('both');
    expect(sourceOf(await client.search(wordOf(inNewestSealed)), inNewestSealed)).toBe('both');
    const old = await client.search(wordOf(inOldest));
    expect(sourceOf(old, inOldest)).toBe('server');
    expect(old.rooms[0]?.roomName).toBe(`room of ${ana.name}`);

    // Paging back opens segment 0: its messages feed the device's index as it loads.
    await room.loadHistory({ beforeId: ids[M]! });
    await until((c) => room.on('change', c), () => room.getMessage(inOldest) !== null, 'segment 0 on the device');
    await client.searchIndexed();
    expect(sourceOf(await client.search(wordOf(inOldest)), inOldest)).toBe('both');

    // Offline, all three are the device's.
    await t.stop();
    for (const id of [inOldest, inNewestSealed, inOpen]) {
      const results = await client.search(`history ${wordOf(id)}`);
      expect(results.offline).toBe(true);
      expect(sourceOf(results, id)).toBe('local');
    }
  }, 120_000);
});
