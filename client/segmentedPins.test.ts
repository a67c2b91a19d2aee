import { afterAll, describe, expect, it } from 'vitest';
import type { ChatClient } from './ChatClient.ts';
import type { ChatRoom } from './room/ChatRoom.ts';
import { ClientError } from './errors/ClientError.ts';
import { PIN_WAIT_MS } from './room/RoomPins.ts';
import { ChatRoomSchema } from '../shared/models/chatRoom.ts';
import { SEGMENT_MAX_MESSAGES } from '../shared/roomDoc/segments.ts';
import { startWithRoom, type TestServer, type TestUser } from '../test/support/serverHarness.ts';
import { freshDbName, openTestClient, until } from '../test/support/clientHarness.ts';
import { withSegmentedHistory } from '../test/support/seededRooms.ts';

/*
 * Pins and mention counts in a segmented room (docs/protocol.md, "Large rooms: segments"), over
 * real sockets on a real server: segments 0 and 1 sealed, the open segment 2 holding 10 messages.
 */
const M = SEGMENT_MAX_MESSAGES;
const cleanup: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const fn of cleanup.reverse()) await fn();
});

async function openOnNewDevice(t: TestServer, user: TestUser, roomId: string, label: string): Promise<{ client: ChatClient; room: ChatRoom }> {
  const client = await openTestClient({ serverUrl: t.url, token: user.token, dbName: freshDbName(label), background: { enabled: false } });
  cleanup.push(() => client.close());
  const room = await client.openRoom(roomId);
  await until((c) => room.on('change', c), () => room.segmented, `${label}'s head`);
  return { client, room };
}

const pinnedIds = (room: ChatRoom): string[] => room.pinnedMessages().map((m) => m.id);

async function rejection(promise: Promise<unknown>): Promise<ClientError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  if (!(error instanceof ClientError)) throw new Error(`expected a ClientError, got ${String(error)}`);
  return error;
}

describe('pins in a segmented room, through the SDK', () => {
  it('an owner pins a message of an old sealed segment the device has not synced yet and one of the open segment; a fresh device of a member lists both; members may not pin; unpin works', async () => {
    const { t, ana, ben, roomId } = await startWithRoom();
    cleanup.push(() => t.dispose());
    const ids = await withSegmentedHistory(t, roomId, ana.id, 2 * M + 10);
    const old = ids[7] ?? '';
    const recent = ids.at(-3) ?? '';

    // Ana's new device has the head and nothing of segment 0: the pin waits for the segment to bring the message.
    const a = await openOnNewDevice(t, ana, roomId, 'pins-ana');
    expect(a.room.getMessage(old)).toBeNull();
    await a.room.pin(old);
    await a.room.pin(recent);
    expect(a.room.getMessage(old)).toMatchObject({ pinned: true, pinned_by: ana.id });

    // Ben's fresh device: the list opens the segments holding the pinned messages, newest pin first.
    const b = await openOnNewDevice(t, ben, roomId, 'pins-ben');
    await until((c) => b.room.on('change', c), () => pinnedIds(b.room).join() === [recent, old].join(), "both pins on Ben's device");
    for (const id of [old, recent]) {
      const message = b.room.getMessage(id);
      expect(message).toMatchObject({ id, pinned: true, pinned_by: ana.id });
      expect(message?.pinned_at).not.toBeNull();
    }

    // A member's pin and unpin are refused before anything is written.
    expect((await rejection(b.room.pin(ids[3] ?? ''))).code).toBe('forbidden');
    expect((await rejection(b.room.unpin(old))).code).toBe('forbidden');

    // Unpinned by the owner: gone from Ben's list and from the message.
    await a.room.unpin(old);
    await until((c) => b.room.on('change', c), () => pinnedIds(b.room).join() === recent, "the unpin on Ben's device");
    expect(b.room.getMessage(old)).toMatchObject({ pinned: false, pinned_at: null, pinned_by: null });
    expect(a.room.refusal).toBeNull();
  }, 90_000);

  it('a message that is not in its sealed segment is not_found once the segment is whole, without waiting out the bound', async () => {
    const { t, ana, roomId } = await startWithRoom();
    cleanup.push(() => t.dispose());
    const ids = await withSegmentedHistory(t, roomId, ana.id, 2 * M + 10);
    // Same time as a message of segment 0, another random part: in segment 0's range, never written.
    const real = ids[10] ?? '';
    const missing = `${real.slice(0, -4)}${real.slice(-4) === 'ffff' ? '0000' : 'ffff'}`;
    const a = await openOnNewDevice(t, ana, roomId, 'pins-missing');
    const started = performance.now();
    const error = await rejection(a.room.pin(missing));
    expect(error.code).toBe('not_found');
    expect(performance.now() - started).toBeLessThan(PIN_WAIT_MS);
    expect(pinnedIds(a.room)).toEqual([]);
  }, 60_000);
});

describe('mention counts in a segmented room', () => {
  it('counts mentions in every segment after the read position (REST, user feed, SDK room list); a deletion in a sealed segment and reading past them lower it', async () => {
    const { t, ana, ben, roomId } = await startWithRoom();
    cleanup.push(() => t.dispose());
    // Ana mentions Ben in segment 0, in segment 1 (both sealed) and in the open segment.
    const mentioned = new Set([100, M + 100, 2 * M + 2]);
    const ids = await withSegmentedHistory(t, roomId, ana.id, 2 * M + 10, { mentions: (i) => (mentioned.has(i) ? [ben.id] : undefined) });
    const listed = async (user: TestUser) => {
      const body = (await t.api(user, 'GET', '/api/rooms')).body as { rooms: unknown[] };
      return body.rooms.map((r) => ChatRoomSchema.parse(r)).find((r) => r.id === roomId);
    };

    // All three count, though only the head and the open segment load.
    const b = await openOnNewDevice(t, ben, roomId, 'mentions-ben');
    const a = await openOnNewDevice(t, ana, roomId, 'mentions-ana');
    expect(await listed(ben)).toMatchObject({ mention_count: 3 });
    await until((c) => a.room.on('change', c), () => a.room.members().some((m) => m.user_id === ben.id), "the member list on Ana's device");
    const live = await a.room.send({ content: '@Ben see this', mentionedUsers: [ben.id] });
    await a.room.whenSent(live.id);
    expect(await listed(ben)).toMatchObject({ mention_count: 4 });
    expect(await listed(ana)).toMatchObject({ mention_count: 0 });
    // Ben's room list follows the user feed, though the room is open on his device (its head has no messages to count).
    const mentionsOf = (client: ChatClient): number | undefined => client.rooms().find((r) => r.room.id === roomId)?.mentionCount;
    await until((c) => b.client.on('rooms', c), () => mentionsOf(b.client) === 4, "Ben's room list to count 4 mentions");

    // Ana deletes the mention in sealed segment 1 (paged in first): it stops counting.
    await a.room.loadHistory({ beforeId: ids[M + 101] ?? '' });
    await a.room.delete(ids[M + 100] ?? '');
    await until((c) => b.client.on('rooms', c), () => mentionsOf(b.client) === 3, "Ben's room list to count 3 mentions");
    expect(await listed(ben)).toMatchObject({ mention_count: 3 });

    // Reading into segment 1 leaves the open segment's two; reading past the seeded one, the live one; then none.
    await b.room.markRead(ids[M + 200] ?? '');
    await until((c) => b.client.on('rooms', c), () => mentionsOf(b.client) === 2, "Ben's room list to count 2 mentions");
    await b.room.markRead(ids[2 * M + 2] ?? '');
    await until((c) => b.client.on('rooms', c), () => mentionsOf(b.client) === 1, "Ben's room list to count 1 mention");
    expect(await listed(ben)).toMatchObject({ mention_count: 1 });
    await b.room.markRead(live.id);
    await until((c) => b.client.on('rooms', c), () => mentionsOf(b.client) === 0, "Ben's room list to count none");
    expect(await listed(ben)).toMatchObject({ mention_count: 0 });
  }, 90_000);

  it('a room segmented by an older Parley (no mentions recorded) counts a sealed segment once the server loads it for a write', async () => {
    const { t, ana, ben, roomId } = await startWithRoom();
    cleanup.push(() => t.dispose());
    const ids = await withSegmentedHistory(t, roomId, ana.id, 2 * M + 10, { mentions: (i) => (i === 100 ? [ben.id] : undefined), unrecordedMentions: true });
    const listed = async () => {
      const body = (await t.api(ben, 'GET', '/api/rooms')).body as { rooms: unknown[] };
      return body.rooms.map((r) => ChatRoomSchema.parse(r)).find((r) => r.id === roomId);
    };
    const a = await openOnNewDevice(t, ana, roomId, 'legacy-ana');
    expect(await listed()).toMatchObject({ mention_count: 0 });
    // Reading segment 0 is served from storage, loading nothing; a reaction there loads it on the server: its mention is recorded and counts.
    await a.room.loadHistory({ beforeId: ids[200] ?? '' });
    await a.room.react(ids[150] ?? '', '👍');
    await expect.poll(async () => (await listed())?.mention_count, { timeout: 10_000 }).toBe(1);
  }, 90_000);
});
