import { afterAll, describe, expect, it } from 'vitest';
import type { ChatRoom } from './room/ChatRoom.ts';
import { startWithRoom } from '../test/support/serverHarness.ts';
import { freshDbName, openTestClient, until } from '../test/support/clientHarness.ts';
import { seedSingleDocumentRoom } from '../test/support/seededRooms.ts';
import { RECENT_PAGE_SIZE } from '../shared/protocol/recentPage.ts';

const cleanup: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const fn of cleanup.reverse()) await fn();
});

const newestIds = (room: ChatRoom): string => room.messages({ limit: RECENT_PAGE_SIZE }).messages.map((m) => m.id).join();

describe('a room converted to segments during its first visit', () => {
  it('reads offline from the device to its newest messages once the visit is online', async () => {
    const { t, ana, ben, roomId } = await startWithRoom();
    cleanup.push(() => t.dispose());
    await t.stop();
    const ids = seedSingleDocumentRoom(t, roomId, ben.id, 10_000);
    await t.restart();
    const newest = ids.slice(-RECENT_PAGE_SIZE).join();

    const dbName = freshDbName('converted');
    const client = await openTestClient({ serverUrl: t.url, token: ana.token, dbName });
    const room = await client.openRoom(roomId);
    await until((c) => room.on('change', c), () => newestIds(room) === newest, 'the newest page');
    await until(
      (c) => {
        const offs = [room.on('connection', c), room.on('change', c)];
        return () => offs.forEach((off) => off());
      },
      () => room.connectionState === 'online' && room.segmented && newestIds(room) === newest,
      'online, segmented',
    );
    await t.stop();
    await client.close();

    const offline = await openTestClient({ serverUrl: t.url, token: ana.token, dbName });
    cleanup.push(() => offline.close());
    const reopened = await offline.openRoom(roomId);
    const shown = reopened.messages({ limit: RECENT_PAGE_SIZE }).messages.map((m) => m.id);
    expect(shown.join()).toBe(newest);
  });

  it('still shows the newest messages offline when the device went offline before any segment reached it', async () => {
    const { t, ana, ben, roomId } = await startWithRoom();
    cleanup.push(() => t.dispose());
    await t.stop();
    const ids = seedSingleDocumentRoom(t, roomId, ben.id, 10_000);
    await t.restart();
    const newest = ids.slice(-RECENT_PAGE_SIZE).join();

    const dbName = freshDbName('converted-early');
    const client = await openTestClient({ serverUrl: t.url, token: ana.token, dbName });
    const room = await client.openRoom(roomId);
    // The app shows the room as one document; the connection drops the moment the head names its segments.
    await until((c) => room.on('change', c), () => newestIds(room) === newest, 'the newest page');
    await until((c) => room.on('change', c), () => room.segmented, 'the head names its segments');
    const closing = client.close();
    await t.stop();
    await closing;

    const offline = await openTestClient({ serverUrl: t.url, token: ana.token, dbName });
    cleanup.push(() => offline.close());
    const reopened = await offline.openRoom(roomId);
    expect(reopened.segmented).toBe(true);
    const page = reopened.messages({ limit: RECENT_PAGE_SIZE });
    expect(page.messages.map((m) => m.id).join()).toBe(newest);
    expect(page.hasMore).toBe(true);
  });
});
