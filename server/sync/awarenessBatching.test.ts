import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MessageType } from '../../shared/protocol/messageTypes.ts';
import { decodeAwarenessUpdate } from '../../shared/protocol/awarenessUpdate.ts';
import { decodeServerFrame } from '../../shared/protocol/frames.ts';
import { messageTypeOf, type RawSocket } from '../../test/support/rawSocket.ts';
import { startWithRoom, type TwoMemberRoom } from '../../test/support/serverHarness.ts';
import { awarenessFrame, openRaw } from '../../test/support/syncFrames.ts';

/** Awareness entries accepted within one window go out together (docs/protocol.md, "relayed in batches"). */

let room: TwoMemberRoom;
const sockets: RawSocket[] = [];
beforeAll(async () => {
  room = await startWithRoom();
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await room.t.dispose();
});

/** The entries of one awareness frame. */
const entriesOf = (frame: Uint8Array) => {
  const decoded = decodeServerFrame(frame);
  return decoded.ok && decoded.frame?.type === 'awareness' ? (decodeAwarenessUpdate(decoded.frame.update) ?? []) : [];
};
const isAwareness = (m: Uint8Array): boolean => messageTypeOf(m) === MessageType.Awareness;

describe('awareness relay', () => {
  it('delivers the newest state of every client id from a burst in fewer frames than changes, the sender included', async () => {
    const listener = await openRaw(room.t, room.roomId, room.ben);
    const sender = await openRaw(room.t, room.roomId, room.ana);
    sockets.push(listener, sender);
    const clients = [7001, 7002, 7003, 7004];
    const CLOCKS = 10;
    const seenBefore = listener.received.filter(isAwareness).length;
    const last = (m: Uint8Array) => isAwareness(m) && entriesOf(m).some((e) => e.clientId === 7004 && e.clock === CLOCKS);
    const listenerGotLast = listener.next(last);
    const senderGotLast = sender.next(last);
    for (let clock = 1; clock <= CLOCKS; clock++) {
      for (const clientId of clients) sender.send(awarenessFrame([{ clientId, clock, state: { typing: clock % 2 === 0 } }]));
    }
    await Promise.all([listenerGotLast, senderGotLast]);
    const frames = listener.received.filter(isAwareness).slice(seenBefore);
    const newest = new Map<number, number>();
    for (const frame of frames) for (const e of entriesOf(frame)) newest.set(e.clientId, Math.max(newest.get(e.clientId) ?? 0, e.clock));
    for (const clientId of clients) expect(newest.get(clientId)).toBe(CLOCKS);
    // 40 changes sent back to back arrive well within a few 50 ms windows.
    expect(frames.length).toBeLessThan(clients.length * CLOCKS);
  });
});
