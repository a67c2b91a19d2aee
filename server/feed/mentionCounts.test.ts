import { afterEach, describe, expect, it } from 'vitest';
import { FEED_DOCUMENT, FeedChangesSchema, type FeedChanges } from '../../shared/models/userFeed.ts';
import { ChatRoomSchema } from '../../shared/models/chatRoom.ts';
import { decodeMuxFrame, encodeOnChannel } from '../../shared/protocol/muxFrames.ts';
import { CommandAnswerSchemas } from '../../shared/commands/commandAnswers.ts';
import { MuxSocket } from '../../test/support/muxSocket.ts';
import { CommandClient } from '../../test/support/commandClient.ts';
import { startTestServer, type TestServer, type TestUser } from '../../test/support/serverHarness.ts';

/*
 * mention_count beside unread_count in the caller's room list (GET /api/rooms) and the user feed,
 * over real sockets on a real server.
 */
let t: TestServer;
afterEach(() => t.dispose());

/** Resolves with the first feed frame (after resuming from scratch) that `p` accepts. */
async function feedFrame(user: TestUser, p: (c: FeedChanges) => boolean): Promise<{ frame: Promise<FeedChanges>; close: () => void }> {
  const mux = await MuxSocket.open(t, user);
  const channel = mux.openChannel(FEED_DOCUMENT);
  const parse = (bytes: Uint8Array): FeedChanges | null => {
    const frame = decodeMuxFrame(bytes);
    if (!frame.ok || !('body' in frame.frame) || frame.frame.channel !== channel) return null;
    return FeedChangesSchema.parse(JSON.parse(new TextDecoder().decode(frame.frame.body)));
  };
  mux.raw.send(encodeOnChannel(channel, new TextEncoder().encode(JSON.stringify({ type: 'resume', cursor: null }))));
  const frame = mux.raw.next((m) => {
    const changes = parse(m);
    return changes !== null && p(changes);
  });
  return { frame: frame.then((bytes) => parse(bytes) as FeedChanges), close: () => mux.raw.close() };
}

async function listed(user: TestUser, roomId: string) {
  const body = (await t.api(user, 'GET', '/api/rooms')).body as { rooms: unknown[] };
  return body.rooms.map((r) => ChatRoomSchema.parse(r)).find((r) => r.id === roomId);
}

describe('mention_count', () => {
  it('counts unread messages that mention the member, by others and not deleted, in GET /api/rooms and the user feed', async () => {
    t = await startTestServer();
    const ana = await t.login('Ana');
    const ben = await t.login('Ben');
    const roomId = await t.createRoom(ana, [ben]);
    const [anaC, benC] = await Promise.all([CommandClient.connect(t, ana), CommandClient.connect(t, ben)]);
    try {
      const send = async (c: CommandClient, content: string, extra: Record<string, unknown> = {}) =>
        CommandAnswerSchemas.send_message.parse((await c.request('send_message', { room_id: roomId, content, ...extra })).data).message;

      const pushed = await feedFrame(ben, (c) => c.rooms.some((r) => r.id === roomId && r.mention_count === 2));
      await send(anaC, 'plain');
      const first = await send(anaC, '@Ben one', { mentioned_users: [ben.id] });
      await send(anaC, '@Ben two', { mentioned_users: [ben.id] });
      await send(benC, '@Ben talking to myself', { mentioned_users: [ben.id] });
      const frame = await pushed.frame;
      pushed.close();
      expect(frame.rooms.find((r) => r.id === roomId)).toMatchObject({ unread_count: 3, mention_count: 2 });

      expect(await listed(ben, roomId)).toMatchObject({ unread_count: 3, mention_count: 2 });
      expect(await listed(ana, roomId)).toMatchObject({ mention_count: 0 });

      // Reading past the first mention leaves one; deleting the other leaves none.
      await benC.request('read_messages', { room_id: roomId, last_read_id: first.id });
      expect(await listed(ben, roomId)).toMatchObject({ mention_count: 1 });
      const history = CommandAnswerSchemas.fetch_history.parse((await anaC.request('fetch_history', { room_id: roomId })).data);
      const two = history.messages.find((m) => m.content === '@Ben two');
      await anaC.request('delete_message', { room_id: roomId, message_id: two?.id });
      expect(await listed(ben, roomId)).toMatchObject({ mention_count: 0 });
    } finally {
      await Promise.all([anaC.close(), benC.close()]);
    }
  });
});
