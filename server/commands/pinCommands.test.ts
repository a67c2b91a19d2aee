import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uuidv7 } from '../../shared/ids.ts';
import type { ChatMessage } from '../../shared/models/chatMessage.ts';
import { CommandAnswerSchemas } from '../../shared/commands/commandAnswers.ts';
import { RoomEventSchemas } from '../../shared/commands/roomEvent.ts';
import { startWithRoom, type TestServer, type TestUser } from '../../test/support/serverHarness.ts';
import { CommandClient, answerFailed, answerOk, sendCommand } from '../../test/support/commandClient.ts';

/*
 * pin_message, unpin_message, fetch_pinned, their events, and send_message's mentioned_users,
 * over real sockets on a real server. Ana owns the room, Ben is a member, Cy is not in it.
 */
let t: TestServer;
let ana: TestUser;
let ben: TestUser;
let cy: TestUser;
let roomId: string;
let anaC: CommandClient;
let benC: CommandClient;

beforeAll(async () => {
  ({ t, ana, ben, roomId } = await startWithRoom());
  cy = await t.login('Cy');
  [anaC, benC] = await Promise.all([CommandClient.connect(t, ana), CommandClient.connect(t, ben)]);
});
afterAll(async () => {
  await Promise.all([anaC.close(), benC.close()]);
  await t.dispose();
});

const ok = answerOk;
const failed = answerFailed;

const send = (c: CommandClient, content: string, extra: Record<string, unknown> = {}): Promise<ChatMessage> => sendCommand(c, roomId, content, extra);

const pinned = async (c: CommandClient): Promise<string[]> =>
  CommandAnswerSchemas.fetch_pinned.parse(ok(await c.request('fetch_pinned', { room_id: roomId }), 'fetch_pinned')).messages.map((m) => m.id);

describe('pin_message / unpin_message / fetch_pinned', () => {
  it('an owner pins and unpins; joined connections get message_pinned and message_unpinned; everyone reads the list', async () => {
    ok(await benC.request('join_room', { room_id: roomId }), 'join_room');
    const m = await send(benC, 'worth pinning');
    const answer = CommandAnswerSchemas.pin_message.parse(ok(await anaC.request('pin_message', { room_id: roomId, message_id: m.id }), 'pin_message'));
    expect(answer.message).toMatchObject({ id: m.id, pinned: true, pinned_by: ana.id });
    expect(answer.message.pinned_at).not.toBeNull();
    const event = RoomEventSchemas.message_pinned.parse((await benC.event('message_pinned', (d) => d['message_id'] === m.id)).data);
    expect(event).toEqual({ room_id: roomId, message_id: m.id, pinned: true, pinned_by: ana.id, pinned_at: answer.message.pinned_at });
    expect(await pinned(benC)).toContain(m.id);
    // Read anywhere else, the message carries its pin too.
    const history = CommandAnswerSchemas.fetch_history.parse(ok(await benC.request('fetch_history', { room_id: roomId }), 'fetch_history'));
    expect(history.messages.find((x) => x.id === m.id)).toMatchObject({ pinned: true, pinned_by: ana.id });

    // Pinning again keeps the pin and says nothing new.
    const again = CommandAnswerSchemas.pin_message.parse(ok(await anaC.request('pin_message', { room_id: roomId, message_id: m.id }), 'pin_message'));
    expect(again.message.pinned_at).toBe(answer.message.pinned_at);

    const unpinned = CommandAnswerSchemas.unpin_message.parse(ok(await anaC.request('unpin_message', { room_id: roomId, message_id: m.id }), 'unpin_message'));
    expect(unpinned.message).toMatchObject({ pinned: false, pinned_at: null, pinned_by: null });
    const off = RoomEventSchemas.message_unpinned.parse((await benC.event('message_unpinned', (d) => d['message_id'] === m.id)).data);
    expect(off).toEqual({ room_id: roomId, message_id: m.id, pinned: false, pinned_by: null, pinned_at: null });
    expect(await pinned(anaC)).not.toContain(m.id);
  });

  it('members may not pin or unpin: forbidden, and nothing changes', async () => {
    const m = await send(anaC, 'members cannot pin this');
    expect(failed(await benC.request('pin_message', { room_id: roomId, message_id: m.id }), 'pin_message', 'forbidden')).toMatch(/owners and admins/);
    ok(await anaC.request('pin_message', { room_id: roomId, message_id: m.id }), 'pin_message');
    failed(await benC.request('unpin_message', { room_id: roomId, message_id: m.id }), 'unpin_message', 'forbidden');
    expect(await pinned(benC)).toContain(m.id);
  });

  it('an unknown message is not_found, a deleted one message_deleted; a deleted pinned message leaves the list', async () => {
    failed(await anaC.request('pin_message', { room_id: roomId, message_id: uuidv7() }), 'pin_message', 'not_found');
    failed(await anaC.request('unpin_message', { room_id: roomId, message_id: uuidv7() }), 'unpin_message', 'not_found');
    const gone = await send(benC, 'soon gone');
    ok(await benC.request('delete_message', { room_id: roomId, message_id: gone.id }), 'delete_message');
    failed(await anaC.request('pin_message', { room_id: roomId, message_id: gone.id }), 'pin_message', 'message_deleted');

    const later = await send(benC, 'pinned, then deleted by its sender');
    ok(await anaC.request('pin_message', { room_id: roomId, message_id: later.id }), 'pin_message');
    ok(await benC.request('delete_message', { room_id: roomId, message_id: later.id }), 'delete_message');
    expect(await pinned(anaC)).not.toContain(later.id);
  });

  it('non-members get not_a_member', async () => {
    const cyC = await CommandClient.connect(t, cy);
    try {
      failed(await cyC.request('fetch_pinned', { room_id: roomId }), 'fetch_pinned', 'not_a_member');
    } finally {
      await cyC.close();
    }
  });
});

describe('send_message with mentioned_users', () => {
  it('stores the mentions of members and answers them', async () => {
    const m = await send(anaC, '@Ben look', { mentioned_users: [ben.id] });
    expect(m.mentioned_users).toEqual([ben.id]);
  });

  it('refuses a mention of someone not in the room, and writes nothing', async () => {
    const id = uuidv7();
    const message = failed(await anaC.request('send_message', { room_id: roomId, content: '@Cy hi', message_id: id, mentioned_users: [cy.id] }), 'send_message', 'invalid_payload');
    expect(message).toMatch(/not a member/);
    const history = CommandAnswerSchemas.fetch_history.parse(ok(await anaC.request('fetch_history', { room_id: roomId }), 'fetch_history'));
    expect(history.messages.map((x) => x.id)).not.toContain(id);
  });

  it('refuses malformed and repeated mentions by schema', async () => {
    failed(await anaC.request('send_message', { room_id: roomId, content: 'x', mentioned_users: ['nope'] }), 'send_message', 'invalid_payload');
    failed(await anaC.request('send_message', { room_id: roomId, content: 'x', mentioned_users: [ben.id, ben.id] }), 'send_message', 'invalid_payload');
  });
});
