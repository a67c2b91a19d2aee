import { afterEach, describe, expect, it } from 'vitest';
import type { ChatRoom } from './room/ChatRoom.ts';
import { startWithRoom } from '../test/support/serverHarness.ts';
import { withSegmentedHistory } from '../test/support/seededRooms.ts';
import { freshDbName, openTestClient, until } from '../test/support/clientHarness.ts';
import { SEGMENT_MAX_MESSAGES } from '../shared/roomDoc/segments.ts';

/*
 * Threads and quoted replies through the SDK, two users on a real server over real sockets: the
 * reply count (optimistic, then the server's), thread pages, unread replies per thread, the
 * room's timeline without thread-only replies, and a quote following its message's edit, also
 * when the quoted message is in a segment the device has not opened.
 */
const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

const changes = (room: ChatRoom) => (check: () => void) => {
  const offs = [room.on('change', check), room.on('states', check)];
  return () => offs.forEach((off) => off());
};

async function twoUsers() {
  const { t, ana, ben, roomId } = await startWithRoom();
  cleanup.push(() => t.dispose());
  const anaClient = await openTestClient({ serverUrl: t.url, token: ana.token, dbName: freshDbName('ana') });
  const benClient = await openTestClient({ serverUrl: t.url, token: ben.token, dbName: freshDbName('ben') });
  cleanup.push(() => anaClient.close(), () => benClient.close());
  return { t, ana, ben, roomId, anaRoom: await anaClient.openRoom(roomId), benRoom: await benClient.openRoom(roomId) };
}

describe('threads in the SDK', () => {
  it('counts replies (mine at once, then the server’s), pages the thread, and counts unread replies per thread apart from the room', async () => {
    const { ana, ben, anaRoom, benRoom } = await twoUsers();
    const root = await anaRoom.send({ content: 'what do we ship?' });
    await until(changes(benRoom), () => benRoom.getMessage(root.id) !== null, 'Ben to get the root');
    const first = await benRoom.send({ content: 'the thread feature', parentId: root.id });
    // Optimistic: my reply counts before the server acknowledged it.
    expect(benRoom.getMessage(root.id)?.reply_count).toBe(1);
    const second = await benRoom.send({ content: 'and quotes', parentId: root.id, showInChannel: true });
    await benRoom.whenSent(second.id);
    await until(changes(anaRoom), () => anaRoom.getMessage(root.id)?.reply_count === 2, 'Ana to see two replies');
    expect(anaRoom.getMessage(root.id)).toMatchObject({ thread_participants: [ben.id], last_reply_at: second.created_at });
    expect(benRoom.threads.summary(root.id)).toMatchObject({ replyCount: 2, participants: [ben.id] });

    // The room's timeline: the root and the reply also sent to the room; the other reply only in its thread.
    expect(anaRoom.messages().messages.map((m) => m.id)).toEqual([root.id, second.id]);
    expect(anaRoom.unreadCount()).toBe(1);
    const page = anaRoom.threads.page(root.id, { limit: 1 });
    expect(page).toMatchObject({ messages: [{ id: second.id, parent_id: root.id, show_in_channel: true }], hasMore: true });
    expect(anaRoom.threads.page(root.id, { beforeId: second.id }).messages.map((m) => m.id)).toEqual([first.id]);

    expect(anaRoom.threads.unreadCount(root.id)).toBe(2);
    expect(await anaRoom.threads.markRead(root.id, first.id)).toEqual({ moved: true });
    expect(anaRoom.threads.unreadCount(root.id)).toBe(1);
    expect(await anaRoom.threads.markRead(root.id, root.id)).toEqual({ moved: false });
    await anaRoom.threads.markRead(root.id, second.id);
    expect(anaRoom.threads.unreadCount(root.id)).toBe(0);
    expect(benRoom.threads.unreadCount(root.id)).toBe(0);
    await expect(anaRoom.threads.markRead(first.id, second.id)).rejects.toMatchObject({ code: 'invalid_payload' });

    // A deleted reply leaves the count; the root's author sees it.
    await benRoom.delete(first.id);
    await until(changes(anaRoom), () => anaRoom.getMessage(root.id)?.reply_count === 1, 'the count after a deletion');
    expect(ana.id).not.toBe(ben.id);
  });

  it('quotes a message with its sender and first line, and the quote follows its edit and deletion', async () => {
    const { ana, anaRoom, benRoom } = await twoUsers();
    const quoted = await anaRoom.send({ content: 'ship on Friday\nunless it rains' });
    await until(changes(benRoom), () => benRoom.getMessage(quoted.id) !== null, 'Ben to get it');
    // The quote's sender name comes from the member list, which the REST API answers on its own time.
    await until(changes(benRoom), () => benRoom.members().some((m) => m.user_id === ana.id), "Ben's member list");
    const quoting = await benRoom.send({ content: 'agreed', quotedMessageId: quoted.id });
    expect(quoting.quoted_message).toEqual({ id: quoted.id, sender_id: ana.id, sender_name: 'Ana', content: 'ship on Friday', is_deleted: false });
    await anaRoom.edit(quoted.id, { content: 'ship on Monday' });
    await until(changes(benRoom), () => benRoom.getMessage(quoting.id)?.quoted_message?.content === 'ship on Monday', 'the quote to follow the edit');
    await anaRoom.delete(quoted.id);
    await until(changes(benRoom), () => benRoom.getMessage(quoting.id)?.quoted_message?.is_deleted === true, 'the quote to show the deletion');
    expect(benRoom.getMessage(quoting.id)?.quoted_message?.content).toBe('');
  });

  it('in a segmented room: opens the segment of a quoted message it does not hold, and a thread with a root in an old segment', async () => {
    const { t, ana, roomId } = await startWithRoom();
    cleanup.push(() => t.dispose());
    const ids = await withSegmentedHistory(t, roomId, ana.id, 2 * SEGMENT_MAX_MESSAGES + 10);
    const client = await openTestClient({ serverUrl: t.url, token: ana.token, dbName: freshDbName('segmented') });
    cleanup.push(() => client.close());
    const room = await client.openRoom(roomId);
    await until(changes(room), () => room.segmented && room.messages({ limit: 1 }).messages[0]?.id === ids.at(-1), 'the newest page');
    const old = ids[10] ?? '';
    const quoting = await room.send({ content: 'remember this?', quotedMessageId: old });
    await until(changes(room), () => room.getMessage(quoting.id)?.quoted_message?.content === `history ${old}`, 'the quoted message’s segment');
    const reply = await room.send({ content: 'a late answer', parentId: old });
    await room.whenSent(reply.id);
    await until(changes(room), () => room.threads.summary(old)?.replyCount === 1 && room.threads.page(old).messages.length === 1, 'the thread');
    expect(room.threads.page(old).messages[0]?.id).toBe(reply.id);
  }, 60_000);
});
