import { describe, expect, it } from 'vitest';
import { uuidv4 } from '../../shared/ids.ts';
import { WebSocketResponseSchema, type WebSocketResponse } from '../../shared/commands/webSocketResponse.ts';
import type { ForwardHandlers } from '../sync/ChannelRouter.ts';
import { createLogger } from '../log.ts';
import { CommandConnection } from './CommandConnection.ts';
import { OwnerCommandChannel } from './OwnerCommandChannel.ts';
import { parseCommandFrame } from './parseCommandFrame.ts';

const text = new TextEncoder();
const read = new TextDecoder();

/**
 * The edge's end of a command channel, against a scripted owner: what the bot sees of answers,
 * events and the channel's loss (docs/scale-out.md, "Routing"). The channel itself is a fake; the
 * cluster tests run it over real links (server/routing/clusterCommands.test.ts).
 */
function harness() {
  const toBot: WebSocketResponse[] = [];
  const toOwner: Array<Record<string, unknown>> = [];
  const answered: Array<[string, string | null]> = [];
  let owner: ForwardHandlers | null = null;
  let closedByEdge = false;
  const conn = new CommandConnection(
    { closed: false, send: (frame) => void toBot.push(WebSocketResponseSchema.parse(JSON.parse(frame))), close: () => {} },
    { id: uuidv4(), name: 'Bot' },
    1,
  );
  const lost: OwnerCommandChannel[] = [];
  const channel = new OwnerCommandChannel(
    'node-1',
    (handlers) => {
      owner = handlers;
      return { send: (body) => void toOwner.push(JSON.parse(read.decode(body)) as Record<string, unknown>), close: () => void (closedByEdge = true) };
    },
    { conn, logger: createLogger('silent'), answered: (roomId, error) => void answered.push([roomId, error]), lost: (c) => void lost.push(c) },
  );
  const forward = (frame: Record<string, unknown>): void => {
    const parsed = parseCommandFrame(text.encode(JSON.stringify(frame)), 1 << 20);
    if (!parsed.ok) throw new Error(parsed.data.message);
    channel.forward(parsed.command, parsed.requestId);
  };
  const fromOwner = (frame: unknown): void => owner?.frame(text.encode(JSON.stringify(frame)));
  return { channel, conn, toBot, toOwner, answered, lost, forward, fromOwner, owner: () => owner!, closedByEdge: () => closedByEdge };
}

describe('OwnerCommandChannel', () => {
  const room = uuidv4();
  const other = uuidv4();

  it("sends the owner its own sequence as request_id and gives the bot's back on the answer (none when none was sent)", () => {
    const h = harness();
    h.forward({ command: 'fetch_pinned', room_id: room, request_id: 'same' });
    h.forward({ command: 'fetch_pinned', data: { room_id: room }, request_id: 'same' });
    h.forward({ command: 'fetch_pinned', room_id: room });
    expect(h.toOwner.map((f) => f.request_id)).toEqual([1, 2, 3]);
    expect(h.toOwner[0]).toEqual({ command: 'fetch_pinned', data: { room_id: room }, request_id: 1 });
    // Answered out of order, as the owner may.
    for (const seq of [3, 1, 2]) h.fromOwner({ type: 'fetch_pinned', success: true, error: null, data: { room_id: room, messages: [] }, request_id: seq });
    expect(h.toBot.map((f) => f.request_id)).toEqual([undefined, 'same', 'same']);
    expect(h.toBot.every((f) => f.type === 'fetch_pinned' && f.success)).toBe(true);
    // An answer that matches nothing is dropped; an event passes as it came.
    h.fromOwner({ type: 'fetch_pinned', success: true, error: null, data: {}, request_id: 3 });
    h.fromOwner({ type: 'typing_started', success: true, error: null, data: { room_id: room, user_id: uuidv4(), user_name: 'Cai' } });
    expect(h.toBot.map((f) => f.type)).toEqual(['fetch_pinned', 'fetch_pinned', 'fetch_pinned', 'typing_started']);
  });

  it('when the channel ends, answers what was in flight owner_unavailable and unsubscribes the rooms joined through it', () => {
    const h = harness();
    h.forward({ command: 'join_room', room_id: room, request_id: 'j1' });
    h.forward({ command: 'join_room', room_id: other, request_id: 'j2' });
    h.fromOwner({ type: 'join_room', success: true, error: null, data: {}, request_id: 1 });
    h.fromOwner({ type: 'join_room', success: true, error: null, data: {}, request_id: 2 });
    expect(h.channel.joins(room) && h.channel.joins(other)).toBe(true);
    // Left, or unsubscribed by the owner: no longer joined through the channel.
    h.forward({ command: 'leave_room', room_id: other, request_id: 'l' });
    h.fromOwner({ type: 'leave_room', success: true, error: null, data: { room_id: other }, request_id: 3 });
    expect(h.channel.joins(other)).toBe(false);
    h.forward({ command: 'send_message', room_id: room, data: { content: 'a' }, request_id: 's1' });
    h.forward({ command: 'send_message', room_id: room, data: { content: 'b' } });
    h.toBot.length = 0;
    h.owner().closed(4504, 'OwnerUnavailable', 'the link to the owner is gone');
    expect(h.channel.ended).toBe(true);
    expect(h.lost).toEqual([h.channel]);
    expect(h.toBot.map((f) => [f.type, f.success, f.error, f.request_id])).toEqual([
      ['send_message', false, 'owner_unavailable', 's1'],
      ['send_message', false, 'owner_unavailable', undefined],
      ['unsubscribed', true, null, undefined],
    ]);
    expect(h.toBot[2]?.data).toMatchObject({ room_id: room, code: 'owner_unavailable' });
    // Ended: a late frame is ignored, a command is answered at once.
    h.fromOwner({ type: 'send_message', success: true, error: null, data: {}, request_id: 4 });
    h.forward({ command: 'fetch_pinned', room_id: room, request_id: 'late' });
    expect(h.toBot.slice(3).map((f) => [f.error, f.request_id])).toEqual([['owner_unavailable', 'late']]);
  });

  it("tells the routes of owner_unavailable (an answer, or an unsubscribed event) and ends on a malformed frame from the owner", () => {
    const h = harness();
    h.forward({ command: 'join_room', room_id: room, request_id: 'j' });
    h.fromOwner({ type: 'join_room', success: false, error: 'owner_unavailable', data: { message: 'moved' }, request_id: 1 });
    h.fromOwner({ type: 'unsubscribed', success: true, error: null, data: { room_id: other, code: 'owner_unavailable', reason: 'moved' } });
    expect(h.answered).toEqual([
      [room, 'owner_unavailable'],
      [other, 'owner_unavailable'],
    ]);
    h.forward({ command: 'fetch_pinned', room_id: room, request_id: 'f' });
    h.owner().frame(text.encode('{"not": "a response"'));
    expect(h.closedByEdge()).toBe(true);
    expect(h.channel.ended).toBe(true);
    expect(h.toBot.at(-1)).toMatchObject({ type: 'fetch_pinned', error: 'owner_unavailable', request_id: 'f' });
  });
});
