import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_META_BYTES } from '../../shared/roomDoc/valueLimits.ts';
import { uuidv4, uuidv7 } from '../../shared/ids.ts';
import { ChatMessageSchema, MAX_CONTENT_LENGTH, type ChatMessage } from '../../shared/models/chatMessage.ts';
import { CommandAnswerSchemas } from '../../shared/commands/commandAnswers.ts';
import { CommandErrorDataSchema } from '../../shared/commands/commandErrorData.ts';
import { RoomEventSchemas } from '../../shared/commands/roomEvent.ts';
import { MAX_HISTORY_LIMIT } from '../../shared/commands/webSocketCommand.ts';
import type { WebSocketResponse } from '../../shared/commands/webSocketResponse.ts';
import { startWithRoom, type TestServer, type TestUser } from '../../test/support/serverHarness.ts';
import { CommandClient, answerFailed, answerOk, sendCommand } from '../../test/support/commandClient.ts';

/*
 * Every command's success path and each of its error paths, over real sockets on a real server.
 * One server and room for the file; each test works on its own messages.
 */
let t: TestServer;
let ana: TestUser;
let ben: TestUser;
let cy: TestUser;
let roomId: string;
let anaC: CommandClient;
let benC: CommandClient;
let cyC: CommandClient;

beforeAll(async () => {
  ({ t, ana, ben, roomId } = await startWithRoom());
  cy = await t.login('Cy');
  [anaC, benC, cyC] = await Promise.all([CommandClient.connect(t, ana), CommandClient.connect(t, ben), CommandClient.connect(t, cy)]);
});
afterAll(async () => {
  await Promise.all([anaC.close(), benC.close(), cyC.close()]);
  await t.dispose();
});

const ok = answerOk;
const failed = answerFailed;

const send = (c: CommandClient, content: string, extra: Record<string, unknown> = {}): Promise<ChatMessage> => sendCommand(c, roomId, content, extra);

const messageOf = (r: WebSocketResponse): ChatMessage => ChatMessageSchema.parse(r.data.message);

describe('join_room', () => {
  it('answers with the room and its newest messages, then pushes the room events', async () => {
    const first = await send(anaC, 'before join');
    const data = CommandAnswerSchemas.join_room.parse(ok(await benC.request('join_room', { room_id: roomId }), 'join_room'));
    expect(data.room.id).toBe(roomId);
    expect(data.messages.map((m) => m.id)).toContain(first.id);
    expect(data.messages.at(-1)?.id).toBe(first.id);
    const sent = await send(anaC, 'after join');
    const event = await benC.event('message_created', (d) => messageOf({ data: d } as WebSocketResponse).id === sent.id);
    expect(RoomEventSchemas.message_created.parse(event.data).message).toEqual(sent);
  });

  it('takes room_id from the envelope too, and echoes request_id', async () => {
    const r = await cyC.request('join_room', {}, { room_id: roomId });
    failed(r, 'join_room', 'not_a_member');
    expect(r.request_id).toBeDefined();
  });

  it('refuses non-members, unknown rooms and malformed ids', async () => {
    failed(await cyC.request('join_room', { room_id: roomId }), 'join_room', 'not_a_member');
    failed(await anaC.request('join_room', { room_id: uuidv4() }), 'join_room', 'not_found');
    const r = await anaC.request('join_room', { room_id: 'nope' });
    failed(r, 'join_room', 'invalid_payload');
    expect(CommandErrorDataSchema.parse(r.data).issues?.[0]?.path).toEqual(['data', 'room_id']);
  });

  it('refuses an inactive room', async () => {
    const other = await t.createRoom(ana, [ben]);
    expect((await t.api(ana, 'PATCH', `/api/rooms/${other}`, { is_active: false })).status).toBe(200);
    failed(await anaC.request('join_room', { room_id: other }), 'join_room', 'room_inactive');
  });
});

describe('leave_room', () => {
  it('stops the events; leaving again is not_joined', async () => {
    const c = await CommandClient.connect(t, ana);
    ok(await c.request('join_room', { room_id: roomId }), 'join_room');
    expect(ok(await c.request('leave_room', { room_id: roomId }), 'leave_room')).toEqual({ room_id: roomId });
    // Events of a commit go out before the answers that wait for it, so none can still come.
    await send(c, 'not for a leaver');
    expect(c.pending()).toEqual([]);
    failed(await c.request('leave_room', { room_id: roomId }), 'leave_room', 'not_joined');
    await c.close();
  });
});

describe('send_message', () => {
  it('answers with the stored ChatMessage once committed', async () => {
    const m = await send(anaC, 'hello', { message_type: 'text', extra_metadata: { mood: 'fine' } });
    expect(m).toMatchObject({ room_id: roomId, sender_id: ana.id, sender_name: 'Ana', content: 'hello', extra_metadata: { mood: 'fine' }, is_deleted: false, is_edited: false });
    const history = CommandAnswerSchemas.fetch_history.parse(ok(await benC.request('fetch_history', { room_id: roomId, limit: 1 }), 'fetch_history'));
    expect(history.messages[0]).toEqual(m);
  });

  it('is idempotent under a client message_id; another content under it is a conflict', async () => {
    const id = uuidv7();
    const a = await send(anaC, 'once', { message_id: id });
    const b = await send(anaC, 'once', { message_id: id });
    expect(b).toEqual(a);
    failed(await anaC.request('send_message', { room_id: roomId, content: 'twice', message_id: id }), 'send_message', 'conflict');
  });

  it('refuses bad payloads, system messages, non-members and unknown rooms', async () => {
    failed(await anaC.request('send_message', { room_id: roomId, content: 'x'.repeat(MAX_CONTENT_LENGTH + 1) }), 'send_message', 'invalid_payload');
    failed(await anaC.request('send_message', { room_id: roomId, content: 7 }), 'send_message', 'invalid_payload');
    // The same value limits as on sync (shared/roomDoc/valueLimits.ts).
    failed(await anaC.request('send_message', { room_id: roomId, content: 'hi', extra_metadata: { k: 'x'.repeat(MAX_META_BYTES) } }), 'send_message', 'invalid_payload');
    failed(await anaC.request('send_message', { room_id: roomId, content: 'hi', message_type: 'system' }), 'send_message', 'forbidden');
    failed(await anaC.request('send_message', { room_id: roomId, content: 'hi', message_id: uuidv4() }), 'send_message', 'invalid_payload');
    failed(await cyC.request('send_message', { room_id: roomId, content: 'hi' }), 'send_message', 'not_a_member');
    failed(await anaC.request('send_message', { room_id: uuidv4(), content: 'hi' }), 'send_message', 'not_found');
  });
});

describe('read_messages', () => {
  it('moves the read position forward only, and tells joined connections', async () => {
    const older = await send(anaC, 'read me 1');
    const newer = await send(anaC, 'read me 2');
    const joined = await CommandClient.connect(t, ana);
    ok(await joined.request('join_room', { room_id: roomId }), 'join_room');
    const moved = CommandAnswerSchemas.read_messages.parse(ok(await benC.request('read_messages', { room_id: roomId, last_read_id: newer.id }), 'read_messages'));
    expect(moved).toEqual({ room_id: roomId, last_read_id: newer.id, moved: true });
    const event = RoomEventSchemas.read_position_moved.parse((await joined.event('read_position_moved', (d) => d.user_id === ben.id)).data);
    expect(event).toEqual({ room_id: roomId, user_id: ben.id, last_read_id: newer.id, last_read_at: newer.created_at });
    const back = CommandAnswerSchemas.read_messages.parse(ok(await benC.request('read_messages', { room_id: roomId, last_read_id: older.id }), 'read_messages'));
    expect(back).toEqual({ room_id: roomId, last_read_id: newer.id, moved: false });
    await joined.close();
  });

  it('refuses unknown messages and non-members', async () => {
    failed(await benC.request('read_messages', { room_id: roomId, last_read_id: uuidv7() }), 'read_messages', 'not_found');
    failed(await benC.request('read_messages', { room_id: roomId, last_read_id: 'x' }), 'read_messages', 'invalid_payload');
    const m = await send(anaC, 'unread');
    failed(await cyC.request('read_messages', { room_id: roomId, last_read_id: m.id }), 'read_messages', 'not_a_member');
  });
});

describe('typing_start and typing_stop', () => {
  it('tell the other joined connections, and need a join', async () => {
    const c = await CommandClient.connect(t, ana);
    failed(await c.request('typing_start', { room_id: roomId }), 'typing_start', 'not_joined');
    failed(await cyC.request('typing_start', { room_id: roomId }), 'typing_start', 'not_a_member');
    ok(await c.request('join_room', { room_id: roomId }), 'join_room');
    ok(await c.request('typing_start', { room_id: roomId }), 'typing_start');
    const started = RoomEventSchemas.typing_started.parse((await benC.event('typing_started', (d) => d.user_id === ana.id)).data);
    expect(started).toEqual({ room_id: roomId, user_id: ana.id, user_name: 'Ana' });
    ok(await c.request('typing_stop', { room_id: roomId }), 'typing_stop');
    await benC.event('typing_stopped', (d) => d.user_id === ana.id);
    failed(await c.request('typing_stop', { room_id: 'x' }), 'typing_stop', 'invalid_payload');
    await c.close();
  });
});

describe('fetch_history', () => {
  it('pages backwards in order and says whether more exist', async () => {
    const room = await t.createRoom(ana, [ben]);
    const sent: ChatMessage[] = [];
    for (let i = 0; i < 5; i++) {
      const data = ok(await anaC.request('send_message', { room_id: room, content: `m${i}` }), 'send_message');
      sent.push(CommandAnswerSchemas.send_message.parse(data).message);
    }
    const last = CommandAnswerSchemas.fetch_history.parse(ok(await benC.request('fetch_history', { room_id: room, limit: 2 }), 'fetch_history'));
    expect(last.messages.map((m) => m.content)).toEqual(['m3', 'm4']);
    expect(last.has_more).toBe(true);
    const before = CommandAnswerSchemas.fetch_history.parse(ok(await benC.request('fetch_history', { room_id: room, before_id: sent[3]?.id, limit: 10 }), 'fetch_history'));
    expect(before.messages.map((m) => m.content)).toEqual(['m0', 'm1', 'm2']);
    expect(before.has_more).toBe(false);
  });

  it(`refuses a limit over ${MAX_HISTORY_LIMIT}, non-members and unknown rooms`, async () => {
    failed(await benC.request('fetch_history', { room_id: roomId, limit: MAX_HISTORY_LIMIT + 1 }), 'fetch_history', 'invalid_payload');
    failed(await benC.request('fetch_history', { room_id: roomId, limit: 0 }), 'fetch_history', 'invalid_payload');
    failed(await cyC.request('fetch_history', { room_id: roomId }), 'fetch_history', 'not_a_member');
    failed(await benC.request('fetch_history', { room_id: uuidv4() }), 'fetch_history', 'not_found');
  });
});

describe('add_reaction and remove_reaction', () => {
  it('add and remove the own reaction and answer with the message', async () => {
    const m = await send(anaC, 'react to me');
    const added = CommandAnswerSchemas.add_reaction.parse(ok(await benC.request('add_reaction', { room_id: roomId, message_id: m.id, reaction: '👍' }), 'add_reaction'));
    expect(added.message.reactions).toEqual({ '👍': [ben.id] });
    const event = RoomEventSchemas.reaction_added.parse((await benC.event('reaction_added', (d) => d.message_id === m.id)).data);
    expect(event).toMatchObject({ user_id: ben.id, reaction: '👍', reactions: { '👍': [ben.id] } });
    const removed = CommandAnswerSchemas.remove_reaction.parse(ok(await benC.request('remove_reaction', { room_id: roomId, message_id: m.id, reaction: '👍' }), 'remove_reaction'));
    expect(removed.message.reactions).toEqual({});
    expect(RoomEventSchemas.reaction_removed.parse((await benC.event('reaction_removed', (d) => d.message_id === m.id)).data).reactions).toEqual({});
  });

  it('refuse unknown and deleted messages, bad reactions and non-members', async () => {
    const m = await send(anaC, 'soon gone');
    failed(await benC.request('add_reaction', { room_id: roomId, message_id: uuidv7(), reaction: '👍' }), 'add_reaction', 'not_found');
    failed(await benC.request('remove_reaction', { room_id: roomId, message_id: uuidv7(), reaction: '👍' }), 'remove_reaction', 'not_found');
    failed(await benC.request('add_reaction', { room_id: roomId, message_id: m.id, reaction: 'a|b' }), 'add_reaction', 'invalid_payload');
    failed(await benC.request('add_reaction', { room_id: roomId, message_id: m.id, reaction: '__proto__' }), 'add_reaction', 'invalid_payload');
    failed(await cyC.request('add_reaction', { room_id: roomId, message_id: m.id, reaction: '👍' }), 'add_reaction', 'not_a_member');
    ok(await anaC.request('delete_message', { room_id: roomId, message_id: m.id }), 'delete_message');
    failed(await benC.request('add_reaction', { room_id: roomId, message_id: m.id, reaction: '👍' }), 'add_reaction', 'message_deleted');
    failed(await benC.request('remove_reaction', { room_id: roomId, message_id: m.id, reaction: '👍' }), 'remove_reaction', 'message_deleted');
  });
});

describe('edit_message', () => {
  it("edits the sender's own message", async () => {
    const m = await send(anaC, 'draft');
    const edited = CommandAnswerSchemas.edit_message.parse(ok(await anaC.request('edit_message', { room_id: roomId, message_id: m.id, content: 'final' }), 'edit_message'));
    expect(edited.message).toMatchObject({ id: m.id, content: 'final', is_edited: true });
    const event = RoomEventSchemas.message_edited.parse((await benC.event('message_edited', (d) => messageOf({ data: d } as WebSocketResponse).id === m.id)).data);
    expect(event.message).toEqual(edited.message);
  });

  it("refuses others' messages, unknown and deleted ones, bad content and non-members", async () => {
    const m = await send(anaC, 'mine');
    failed(await benC.request('edit_message', { room_id: roomId, message_id: m.id, content: 'theirs' }), 'edit_message', 'forbidden');
    failed(await anaC.request('edit_message', { room_id: roomId, message_id: uuidv7(), content: 'x' }), 'edit_message', 'not_found');
    failed(await anaC.request('edit_message', { room_id: roomId, message_id: m.id, content: 'x'.repeat(MAX_CONTENT_LENGTH + 1) }), 'edit_message', 'invalid_payload');
    failed(await cyC.request('edit_message', { room_id: roomId, message_id: m.id, content: 'x' }), 'edit_message', 'not_a_member');
    ok(await anaC.request('delete_message', { room_id: roomId, message_id: m.id }), 'delete_message');
    failed(await anaC.request('edit_message', { room_id: roomId, message_id: m.id, content: 'again' }), 'edit_message', 'message_deleted');
  });
});

describe('delete_message', () => {
  it('lets the sender and a room owner delete, answering with the tombstone', async () => {
    const own = await send(benC, 'ben says');
    const byBen = CommandAnswerSchemas.delete_message.parse(ok(await benC.request('delete_message', { room_id: roomId, message_id: own.id }), 'delete_message'));
    expect(byBen.message).toMatchObject({ id: own.id, is_deleted: true, content: '' });
    const event = RoomEventSchemas.message_deleted.parse((await benC.event('message_deleted', (d) => d.message_id === own.id)).data);
    expect(event).toMatchObject({ deleted_by: ben.id, message: { id: own.id, is_deleted: true } });
    const other = await send(benC, 'moderate me');
    ok(await anaC.request('delete_message', { room_id: roomId, message_id: other.id }), 'delete_message');
    // Deleting twice is fine (a retry).
    ok(await anaC.request('delete_message', { room_id: roomId, message_id: other.id }), 'delete_message');
  });

  it("refuses a member deleting another's message, unknown messages and non-members", async () => {
    const m = await send(anaC, 'owner says');
    failed(await benC.request('delete_message', { room_id: roomId, message_id: m.id }), 'delete_message', 'forbidden');
    failed(await benC.request('delete_message', { room_id: roomId, message_id: uuidv7() }), 'delete_message', 'not_found');
    failed(await cyC.request('delete_message', { room_id: roomId, message_id: m.id }), 'delete_message', 'not_a_member');
  });
});
