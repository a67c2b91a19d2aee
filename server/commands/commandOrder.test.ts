import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uuidv7 } from '../../shared/ids.ts';
import { CommandAnswerSchemas } from '../../shared/commands/commandAnswers.ts';
import { startWithRoom, type TestServer, type TestUser } from '../../test/support/serverHarness.ts';
import { CommandClient, answerOk } from '../../test/support/commandClient.ts';

/*
 * The effects of a connection's commands happen in the order the frames arrived
 * (docs/commands.md), although each command reads the directory asynchronously and some read more
 * than others before they write (send_message checks its mentions and attachments).
 */
let t: TestServer;
let ana: TestUser;
let ben: TestUser;
let roomId: string;
let anaC: CommandClient;

beforeAll(async () => {
  ({ t, ana, ben, roomId } = await startWithRoom());
  anaC = await CommandClient.connect(t, ana);
});
afterAll(async () => {
  await anaC.close();
  await t.dispose();
});

describe("a connection's commands", () => {
  it('apply in the order sent: an edit sent right behind a send_message (that mentions someone) edits it', async () => {
    const id = uuidv7();
    // Sent back to back, without waiting for the first answer: a bot that sends and then corrects.
    const sent = anaC.request('send_message', { room_id: roomId, message_id: id, content: 'draft', mentioned_users: [ben.id] });
    const edited = anaC.request('edit_message', { room_id: roomId, message_id: id, content: 'final' });
    const reacted = anaC.request('add_reaction', { room_id: roomId, message_id: id, reaction: '👍' });
    expect(CommandAnswerSchemas.send_message.parse(answerOk(await sent, 'send_message')).message.id).toBe(id);
    expect(CommandAnswerSchemas.edit_message.parse(answerOk(await edited, 'edit_message')).message.content).toBe('final');
    answerOk(await reacted, 'add_reaction');
    const history = CommandAnswerSchemas.fetch_history.parse(answerOk(await anaC.request('fetch_history', { room_id: roomId }), 'fetch_history'));
    expect(history.messages.find((m) => m.id === id)).toMatchObject({ content: 'final', mentioned_users: [ben.id] });
  });
});
