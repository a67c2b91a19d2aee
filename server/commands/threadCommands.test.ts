import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uuidv7 } from '../../shared/ids.ts';
import type { ChatMessage } from '../../shared/models/chatMessage.ts';
import { CommandAnswerSchemas } from '../../shared/commands/commandAnswers.ts';
import { startWithRoom, type TestServer, type TestUser } from '../../test/support/serverHarness.ts';
import { CommandClient, answerFailed, answerOk, sendCommand } from '../../test/support/commandClient.ts';

/*
 * Threads and quoted replies over the JSON command endpoint (send_message with parent_id,
 * show_in_channel, quoted_message_id; fetch_history with parent_id), and their errors, on a real
 * server over real sockets. Each test works on its own root.
 */
let t: TestServer;
let ana: TestUser;
let ben: TestUser;
let roomId: string;
let anaC: CommandClient;
let benC: CommandClient;

beforeAll(async () => {
  ({ t, ana, ben, roomId } = await startWithRoom());
  [anaC, benC] = await Promise.all([CommandClient.connect(t, ana), CommandClient.connect(t, ben)]);
});
afterAll(async () => {
  await Promise.all([anaC.close(), benC.close()]);
  await t.dispose();
});

const ok = answerOk;
const failed = answerFailed;

const send = (c: CommandClient, content: string, extra: Record<string, unknown> = {}): Promise<ChatMessage> => sendCommand(c, roomId, content, extra);

async function history(c: CommandClient, extra: Record<string, unknown> = {}) {
  return CommandAnswerSchemas.fetch_history.parse(ok(await c.request('fetch_history', { room_id: roomId, limit: 100, ...extra }), 'fetch_history'));
}

async function fetched(id: string): Promise<ChatMessage> {
  const found = (await history(anaC)).messages.find((m) => m.id === id);
  if (!found) throw new Error(`message ${id} is not in the main timeline`);
  return found;
}

describe('threads over JSON commands', () => {
  it('counts replies from two users on the root, keeps them out of the main timeline unless shown in the channel, and pages the thread', async () => {
    const root = await send(anaC, 'a question');
    const first = await send(benC, 'first answer', { parent_id: root.id });
    expect(first).toMatchObject({ parent_id: root.id, show_in_channel: false });
    const second = await send(anaC, 'thanks\nsecond line', { parent_id: root.id, show_in_channel: true });
    const third = await send(benC, 'one more', { parent_id: root.id });
    const main = (await history(anaC)).messages.map((m) => m.id);
    expect(main).toContain(root.id);
    expect(main).toContain(second.id);
    expect(main).not.toContain(first.id);
    expect(main).not.toContain(third.id);
    expect(await fetched(root.id)).toMatchObject({
      reply_count: 3,
      thread_participants: [ben.id, ana.id],
      last_reply_at: third.created_at,
    });
    const page = await history(benC, { parent_id: root.id, limit: 2 });
    expect(page.messages.map((m) => m.id)).toEqual([second.id, third.id]);
    expect(page.has_more).toBe(true);
    const older = await history(benC, { parent_id: root.id, before_id: second.id, limit: 2 });
    expect(older).toMatchObject({ messages: [{ id: first.id, sender_name: ben.name }], has_more: false });
  });

  it('takes a deleted reply out of the count, and keeps the thread of a deleted root', async () => {
    const root = await send(anaC, 'to be deleted');
    const reply = await send(benC, 'reply', { parent_id: root.id });
    await send(benC, 'another', { parent_id: root.id });
    ok(await benC.request('delete_message', { room_id: roomId, message_id: reply.id }), 'delete_message');
    expect(await fetched(root.id)).toMatchObject({ reply_count: 1, thread_participants: [ben.id] });
    ok(await anaC.request('delete_message', { room_id: roomId, message_id: root.id }), 'delete_message');
    expect(await fetched(root.id)).toMatchObject({ is_deleted: true, reply_count: 1 });
    const thread = await history(anaC, { parent_id: root.id });
    expect(thread.messages.map((m) => [m.content, m.is_deleted])).toEqual([['', true], ['another', false]]);
    // A deleted root can still be answered: the reply shows under it.
    await send(anaC, 'late', { parent_id: root.id });
    expect(await fetched(root.id)).toMatchObject({ reply_count: 2 });
  });

  it('refuses a reply to a reply, to an unknown message, and show_in_channel without parent_id', async () => {
    const root = await send(anaC, 'root');
    const reply = await send(benC, 'reply', { parent_id: root.id });
    expect(failed(await benC.request('send_message', { room_id: roomId, content: 'x', parent_id: reply.id }), 'send_message', 'invalid_payload')).toMatch(/one level/);
    failed(await benC.request('send_message', { room_id: roomId, content: 'x', parent_id: uuidv7() }), 'send_message', 'not_found');
    failed(await benC.request('send_message', { room_id: roomId, content: 'x', show_in_channel: true }), 'send_message', 'invalid_payload');
    failed(await benC.request('send_message', { room_id: roomId, content: 'x', quoted_message_id: uuidv7() }), 'send_message', 'not_found');
    failed(await benC.request('fetch_history', { room_id: roomId, parent_id: uuidv7() }), 'fetch_history', 'not_found');
    failed(await benC.request('fetch_history', { room_id: roomId, parent_id: reply.id }), 'fetch_history', 'invalid_payload');
    expect(await fetched(root.id)).toMatchObject({ reply_count: 1 });
  });
});

describe('quoted replies over JSON commands', () => {
  it('answers with the quoted message as it is now: its sender and first line, then its edit, then its deletion', async () => {
    const quoted = await send(anaC, 'first line\nsecond line');
    const quoting = await send(benC, 'I agree', { quoted_message_id: quoted.id });
    expect(quoting).toMatchObject({ quoted_message_id: quoted.id, quoted_message: { id: quoted.id, sender_id: ana.id, sender_name: ana.name, content: 'first line', is_deleted: false } });
    ok(await anaC.request('edit_message', { room_id: roomId, message_id: quoted.id, content: 'edited line' }), 'edit_message');
    expect((await fetched(quoting.id)).quoted_message).toMatchObject({ content: 'edited line', is_deleted: false });
    ok(await anaC.request('delete_message', { room_id: roomId, message_id: quoted.id }), 'delete_message');
    expect((await fetched(quoting.id)).quoted_message).toMatchObject({ content: '', is_deleted: true });
  });
});
