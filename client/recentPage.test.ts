import { afterAll, describe, expect, it } from 'vitest';
import type { ChatRoom } from './room/ChatRoom.ts';
import { startWithRoom } from '../test/support/serverHarness.ts';
import { freshDbName, openTestClient, until } from '../test/support/clientHarness.ts';
import { seedSingleDocumentRoom, withSegmentedHistory } from '../test/support/seededRooms.ts';
import { SEGMENT_MAX_MESSAGES } from '../shared/roomDoc/segments.ts';
import { RECENT_PAGE_SIZE } from '../shared/protocol/recentPage.ts';
import { messageCount } from '../shared/roomDoc/queries.ts';

const cleanup: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const fn of cleanup.reverse()) await fn();
});

const newestIds = (room: ChatRoom): string => room.messages({ limit: RECENT_PAGE_SIZE }).messages.map((m) => m.id).join();

/** A room of Ana and Ben with two sealed segments and 10 messages open (Ben's), all stored on the server: its message ids, and its newest page's. */
async function segmentedRoom() {
  const { t, ana, ben, roomId } = await startWithRoom();
  cleanup.push(() => t.dispose());
  const ids = await withSegmentedHistory(t, roomId, ben.id, 2 * SEGMENT_MAX_MESSAGES + 10);
  return { t, ana, ben, roomId, ids, newest: ids.slice(-RECENT_PAGE_SIZE).join() };
}

describe('a segmented room opens on its recent page', () => {
  it('shows the newest messages from the server before the head has synced, then from its segments, and from the device offline', async () => {
    // The open segment holds 10: the newest page reaches into the newest sealed segment.
    const { t, ana, ben, roomId, ids, newest } = await segmentedRoom();

    // Ben reads the room, so its segments are loaded on the server (a room in use).
    const benClient = await openTestClient({ serverUrl: t.url, token: ben.token, dbName: freshDbName('recent-ben') });
    cleanup.push(() => benClient.close());
    const benRoom = await benClient.openRoom(roomId);
    await until((c) => benRoom.on('change', c), () => benRoom.segmented && newestIds(benRoom) === newest, 'Ben sees the newest page');

    // Ana's new device shows the newest page before the head (and the segments) synced.
    const dbName = freshDbName('recent-ana');
    const client = await openTestClient({ serverUrl: t.url, token: ana.token, dbName });
    const room = await client.openRoom(roomId);
    let segmentedWhenShown: boolean | null = null;
    await until(
      (c) => room.on('change', c),
      () => {
        const shown = newestIds(room) === newest;
        if (shown) segmentedWhenShown ??= room.segmented;
        return shown;
      },
      'the newest page',
    );
    expect(segmentedWhenShown).toBe(false);
    expect(room.getMessage(ids.at(-1) ?? '')?.sender_id).toBe(ben.id);

    // The segments take over once synced: an edit shows (a picture never changes).
    const last = ids.at(-1) ?? '';
    await benRoom.edit(last, { content: 'edited after the picture' });
    await until((c) => room.on('change', c), () => room.getMessage(last)?.content === 'edited after the picture', 'the edit');
    expect(room.segmented).toBe(true);
    // Once the newest sealed segment holds all it was sealed with, the newest page is read from the segments alone.
    await room.loadHistory({ beforeId: ids.at(-10) ?? '' });
    expect(newestIds(room)).toBe(newest);
    await client.close();

    // Offline, the device has the page as its segments last read it, before the room loads.
    await t.stop();
    const offline = await openTestClient({ serverUrl: t.url, token: ana.token, dbName });
    cleanup.push(() => offline.close());
    const recent = await offline.recentMessages(roomId);
    expect(recent?.map((m) => m.id).join()).toBe(newest);
    expect(recent?.at(-1)?.content).toBe('edited after the picture');
    const reopened = await offline.openRoom(roomId);
    expect(newestIds(reopened)).toBe(newest);
    expect(await offline.recentMessages(crypto.randomUUID())).toBeNull();
  });
});

describe('a segmented room synced in the background', () => {
  it('keeps the recent page the server sent with its head: asked for during the sync, after it, and offline, the newest page is there before the room loads', async () => {
    // Nobody reads the room: the server reads the page from storage, after the head's greeting.
    const { t, ana, roomId, newest } = await segmentedRoom();
    const dbName = freshDbName('recent-background');
    // The server's first read of the page starts its storage worker: on a loaded machine that
    // took over the default 2 s wait (a missed picture, harmless); the sync here waits for it.
    const client = await openTestClient({ serverUrl: t.url, token: ana.token, dbName, background: { enabled: false, recentWaitMs: 60_000 } });
    expect(await client.recentMessages(roomId)).toBeNull();

    // Asked for while the room syncs in the background: the page that sync receives, not nothing.
    const syncing = client.syncRoomOnce(roomId);
    const during = await client.recentMessages(roomId);
    expect(during?.map((m) => m.id).join()).toBe(newest);
    await syncing;
    await client.close();

    // The room was never opened here; offline, the device paints its newest page, and opens on it.
    await t.stop();
    const offline = await openTestClient({ serverUrl: t.url, token: ana.token, dbName });
    cleanup.push(() => offline.close());
    expect((await offline.recentMessages(roomId))?.map((m) => m.id).join()).toBe(newest);
    const room = await offline.openRoom(roomId);
    expect(room.segmented).toBe(true);
    expect(newestIds(room)).toBe(newest);
  });
});

describe("a big document's answer in pieces", () => {
  it('counts as synced only once every piece is applied', async () => {
    // Stored above 64 KiB, the room's whole-state answer comes as a step 2 and updates.
    const { t, ana, ben, roomId } = await startWithRoom({ PARLEY_SLICED_LOAD_BYTES: String(64 * 1024) });
    cleanup.push(() => t.dispose());
    await t.stop();
    const ids = seedSingleDocumentRoom(t, roomId, ben.id, 3_000);
    await t.restart();
    const client = await openTestClient({ serverUrl: t.url, token: ana.token, dbName: freshDbName('pieces') });
    cleanup.push(() => client.close());
    const room = await client.openRoom(roomId);
    const heldWhenOnline = await new Promise<number>((resolve) => {
      const off = room.on('connection', (state) => {
        if (state !== 'online') return;
        off();
        resolve(messageCount(room.doc));
      });
    });
    expect(heldWhenOnline).toBe(ids.length);
  });

  it('a background sync of it ends once every piece is stored, not at its timeout', async () => {
    const { t, ana, ben, roomId } = await startWithRoom({ PARLEY_SLICED_LOAD_BYTES: String(64 * 1024) });
    cleanup.push(() => t.dispose());
    await t.stop();
    const ids = seedSingleDocumentRoom(t, roomId, ben.id, 3_000);
    await t.restart();
    const dbName = freshDbName('pieces-background');
    // A timeout longer than the test's: a sync that only ends at its timeout fails the test.
    const client = await openTestClient({ serverUrl: t.url, token: ana.token, dbName, background: { enabled: false, timeoutMs: 10 * 60_000 } });
    await client.syncRoomOnce(roomId);
    await client.close();
    // Everything it received was stored before the sync let the room go.
    await t.stop();
    const offline = await openTestClient({ serverUrl: t.url, token: ana.token, dbName });
    cleanup.push(() => offline.close());
    const room = await offline.openRoom(roomId);
    expect(messageCount(room.doc)).toBe(ids.length);
  });
});
