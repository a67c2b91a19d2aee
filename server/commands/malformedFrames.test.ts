import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandErrorDataSchema } from '../../shared/commands/commandErrorData.ts';
import { startWithRoom, type TwoMemberRoom } from '../../test/support/serverHarness.ts';
import { CommandClient } from '../../test/support/commandClient.ts';
import { prng } from '../../test/support/prng.ts';

const MAX_FRAME = 2048;
let s: TwoMemberRoom;

beforeAll(async () => {
  // A burst big enough for the flood: this file is about malformed frames, not the rate limit.
  s = await startWithRoom({ PARLEY_MAX_FRAME_BYTES: String(MAX_FRAME), PARLEY_RATE_BURST: '5000' });
});
afterAll(() => s.t.dispose());

/** A malformed frame and the error its answer must carry. */
type Case = { frame: string | Buffer; code: string; type?: string; requestId?: string };

function malformed(i: number, roomId: string, pick: number): Case {
  const rid = `m${i}`;
  switch (pick) {
    case 0:
      return { frame: `{"command": "send_message", "data": {${'x'.repeat(i % 7)}`, code: 'invalid_json' };
    case 1:
      return { frame: JSON.stringify({ command: 'send_message', room_id: roomId, data: { content: i }, request_id: rid }), code: 'invalid_payload', type: 'send_message', requestId: rid };
    case 2:
      return { frame: JSON.stringify({ command: `launch_${i}`, data: {}, request_id: rid }), code: 'unknown_command', type: 'error', requestId: rid };
    case 3:
      return { frame: JSON.stringify({ command: 'join_room', data: { room_id: 'x'.repeat(MAX_FRAME + 10 + (i % 100)) } }), code: 'payload_too_large' };
    case 4:
      return { frame: JSON.stringify([1, 2, i]), code: 'invalid_payload' };
    case 5:
      return { frame: JSON.stringify({ command: 42, data: 'nope', request_id: rid }), code: 'invalid_payload', type: 'error', requestId: rid };
    case 6:
      return { frame: JSON.stringify({ command: 'fetch_history', data: { room_id: roomId, limit: 'all' }, request_id: rid }), code: 'invalid_payload', type: 'fetch_history', requestId: rid };
    case 7:
      return { frame: Buffer.from([0xff, 0xfe, i & 0xff]), code: 'invalid_payload' };
    default:
      return { frame: JSON.stringify({ command: 'edit_message', room_id: roomId, data: { message_id: 'm', content: null }, request_id: rid }), code: 'invalid_payload', type: 'edit_message', requestId: rid };
  }
}

describe('malformed frames', () => {
  it('1,000 of them each get an error answer, in order, and the connection keeps working', async () => {
    const c = await CommandClient.connect(s.t, s.ana);
    const rng = prng(7);
    const cases = Array.from({ length: 1000 }, (_, i) => malformed(i, s.roomId, rng.int(9)));
    const answered = new Promise<void>((resolve) => {
      const check = (): void => void (c.frames.length >= cases.length ? resolve() : c.nextFrame().then(check));
      check();
    });
    for (const { frame } of cases) c.ws.send(frame);
    await answered;
    expect(c.frames).toHaveLength(cases.length);
    cases.forEach((expected, i) => {
      const got = c.frames[i];
      expect(got, `frame ${i}`).toMatchObject({ success: false, error: expected.code, ...(expected.type ? { type: expected.type } : {}) });
      expect(got?.request_id).toBe(expected.requestId);
      expect(CommandErrorDataSchema.safeParse(got?.data).success).toBe(true);
    });
    const issues = CommandErrorDataSchema.parse(c.frames[cases.findIndex((x) => x.type === 'send_message')]?.data).issues;
    expect(issues?.[0]?.path).toEqual(['data', 'content']);
    const ok = await c.request('send_message', { room_id: s.roomId, content: 'still here' });
    expect(ok.success).toBe(true);
    await c.close();
  });

  it('room_id in data and envelope must agree', async () => {
    const c = await CommandClient.connect(s.t, s.ana);
    const r = await c.request('join_room', { room_id: s.roomId }, { room_id: '0190a0f0-0000-4000-8000-000000000000' });
    expect(r).toMatchObject({ type: 'join_room', success: false, error: 'invalid_payload' });
    await c.close();
  });

  it('a frame over twice the limit is never buffered: the socket closes with 1009', async () => {
    const c = await CommandClient.connect(s.t, s.ana);
    c.ws.send('x'.repeat(2 * MAX_FRAME + 1));
    expect((await c.closed).code).toBe(1009);
  });
});
