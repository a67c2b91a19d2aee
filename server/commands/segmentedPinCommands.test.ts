import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandAnswerSchemas } from '../../shared/commands/commandAnswers.ts';
import { CommandErrorDataSchema } from '../../shared/commands/commandErrorData.ts';
import { RoomEventSchemas } from '../../shared/commands/roomEvent.ts';
import { SEGMENT_MAX_MESSAGES } from '../../shared/roomDoc/segments.ts';
import { startWithRoom, type TestServer, type TestUser } from '../../test/support/serverHarness.ts';
import { CommandClient, answerOk } from '../../test/support/commandClient.ts';
import { withSegmentedHistory } from '../../test/support/seededRooms.ts';

/*
 * pin_message, unpin_message and fetch_pinned on messages of a segmented room's old sealed
 * segments, over real sockets: segments 0 and 1 sealed, the open segment 2 holding 10 messages.
 * The command loads the segment holding the message to check it, and reads it back for answers.
 */
const M = SEGMENT_MAX_MESSAGES;
let t: TestServer;
let ana: TestUser;
let ben: TestUser;
let roomId: string;
let ids: string[];
let anaC: CommandClient;
let benC: CommandClient;

beforeAll(async () => {
  ({ t, ana, ben, roomId } = await startWithRoom());
  ids = await withSegmentedHistory(t, roomId, ana.id, 2 * M + 10);
  [anaC, benC] = await Promise.all([CommandClient.connect(t, ana), CommandClient.connect(t, ben)]);
}, 60_000);
afterAll(async () => {
  await Promise.all([anaC.close(), benC.close()]);
  await t.dispose();
});

const ok = answerOk;
const pinned = async (c: CommandClient): Promise<string[]> =>
  CommandAnswerSchemas.fetch_pinned.parse(ok(await c.request('fetch_pinned', { room_id: roomId }), 'fetch_pinned')).messages.map((m) => m.id);

describe('pin commands in a segmented room', () => {
  it('an owner pins a message of segment 0 and one of segment 1; the list, history and events carry them; a member is refused; unpin works', async () => {
    ok(await benC.request('join_room', { room_id: roomId }), 'join_room');
    const old = ids[42] ?? '';
    const middle = ids[M + 42] ?? '';

    const answer = CommandAnswerSchemas.pin_message.parse(ok(await anaC.request('pin_message', { room_id: roomId, message_id: old }), 'pin_message'));
    expect(answer.message).toMatchObject({ id: old, content: `history ${old}`, pinned: true, pinned_by: ana.id });
    const event = RoomEventSchemas.message_pinned.parse((await benC.event('message_pinned', (d) => d['message_id'] === old)).data);
    expect(event).toMatchObject({ room_id: roomId, message_id: old, pinned: true, pinned_by: ana.id, pinned_at: answer.message.pinned_at });
    ok(await anaC.request('pin_message', { room_id: roomId, message_id: middle }), 'pin_message');
    expect(await pinned(benC)).toEqual([middle, old]);

    // A history page reaching segment 0 shows the pin on the message.
    const page = CommandAnswerSchemas.fetch_history.parse(ok(await benC.request('fetch_history', { room_id: roomId, before_id: ids[50], limit: 20 }), 'fetch_history'));
    expect(page.messages.find((m) => m.id === old)).toMatchObject({ pinned: true, pinned_by: ana.id });

    const refused = await benC.request('pin_message', { room_id: roomId, message_id: ids[7] });
    expect(refused).toMatchObject({ type: 'pin_message', success: false, error: 'forbidden' });
    expect(CommandErrorDataSchema.parse(refused.data).message).toMatch(/owners and admins/);
    expect(await benC.request('unpin_message', { room_id: roomId, message_id: old })).toMatchObject({ success: false, error: 'forbidden' });

    const unpinned = CommandAnswerSchemas.unpin_message.parse(ok(await anaC.request('unpin_message', { room_id: roomId, message_id: old }), 'unpin_message'));
    expect(unpinned.message).toMatchObject({ id: old, pinned: false, pinned_at: null, pinned_by: null });
    RoomEventSchemas.message_unpinned.parse((await benC.event('message_unpinned', (d) => d['message_id'] === old)).data);
    expect(await pinned(benC)).toEqual([middle]);
  }, 60_000);

  it('an id in an old segment\'s range that is not there is not_found, for pin and unpin', async () => {
    const real = ids[9] ?? '';
    const missing = `${real.slice(0, -4)}${real.slice(-4) === 'ffff' ? '0000' : 'ffff'}`;
    expect(await anaC.request('pin_message', { room_id: roomId, message_id: missing })).toMatchObject({ success: false, error: 'not_found' });
    expect(await anaC.request('unpin_message', { room_id: roomId, message_id: missing })).toMatchObject({ success: false, error: 'not_found' });
    expect(await pinned(anaC)).not.toContain(missing);
  });
});
