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

/**
 * A server holding a 10,000-message room as one document (converted into segments when it
 * loads), and Ana's first visit, up to the room showing its newest page (from the one document).
 */
async function firstVisit(label: string) {
  const { t, ana, ben, roomId } = await startWithRoom();
  cleanup.push(() => t.dispose());
  await t.stop();
  const ids = seedSingleDocumentRoom(t, roomId, ben.id, 10_000);
  await t.restart();
  const newest = ids.slice(-RECENT_PAGE_SIZE).join();
  const dbName = freshDbName(label);
  const client = await openTestClient({ serverUrl: t.url, token: ana.token, dbName });
  const room = await client.openRoom(roomId);
  await until((c) => room.on('change', c), () => newestIds(room) === newest, 'the newest page');
  return { t, ana, roomId, newest, dbName, client, room };
}

describe('a room converted to segments during its first visit', () => {
  it('reads offline from the device to its newest messages once the visit is online', async () => {
    const { t, ana, roomId, newest, dbName, client, room } = await firstVisit('converted');
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
    const { t, ana, roomId, newest, dbName, client, room } = await firstVisit('converted-early');
    // The connection drops the moment the head names its segments.
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
