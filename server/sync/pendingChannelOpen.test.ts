import { afterEach, describe, expect, it, vi } from 'vitest';
import * as Y from 'yjs';
import { decodeMuxFrame } from '../../shared/protocol/muxFrames.ts';
import { createMessage } from '../../shared/roomDoc/messageOps.ts';
import { listMessages } from '../../shared/roomDoc/queries.ts';
import { serverLogs } from '../../test/support/logCapture.ts';
import { MuxSocket } from '../../test/support/muxSocket.ts';
import { startTestServer, type TestServer, type TestUser } from '../../test/support/serverHarness.ts';

/*
 * A channel's membership check reads the directory asynchronously, and a client sends the
 * channel's frames right after its `open`. The check is held here at a gate (checkRoomAccess,
 * mocked to wait for it, in this file only) so that those frames, a `close`, or the socket's end
 * surely arrive while it is pending. Mocking the module, rather than adding a seam to the server
 * for tests, leaves the production wiring untouched and still runs everything over real sockets.
 */

const gate = vi.hoisted(() => {
  let held = false;
  let waiting: Array<() => void> = [];
  let watchers: Array<{ count: number; resolve: () => void }> = [];
  const notify = (): void => {
    watchers = watchers.filter((w) => (waiting.length >= w.count ? (w.resolve(), false) : true));
  };
  return {
    /** Checks from now on wait until release(). */
    hold(): void {
      held = true;
    },
    /** Lets every waiting check go on, in the order they arrived. */
    release(): void {
      held = false;
      const go = waiting;
      waiting = [];
      for (const resume of go) resume();
    },
    pass(): Promise<void> {
      if (!held) return Promise.resolve();
      const passed = new Promise<void>((resolve) => waiting.push(resolve));
      notify();
      return passed;
    },
    /** Resolves once `count` checks wait at the gate (so every frame sent before them has been read). */
    waiting(count: number): Promise<void> {
      return new Promise((resolve) => {
        watchers.push({ count, resolve });
        notify();
      });
    },
  };
});

vi.mock('../log.ts', () => import('../../test/support/logCapture.ts').then((m) => m.logModule));
vi.mock('../access/checkRoomAccess.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('../access/checkRoomAccess.ts')>();
  return {
    ...real,
    checkRoomAccess: async (...args: Parameters<typeof real.checkRoomAccess>) => {
      await gate.pass();
      return real.checkRoomAccess(...args);
    },
  };
});

const contents = (doc: Y.Doc): string[] => listMessages(doc, { limit: 1000 }).messages.map((m) => m.content);

/** Two messages by `user` on a copy of `doc`, as two updates: the second depends on the first. */
function twoUpdates(doc: Y.Doc, user: TestUser, first: string, second: string): [Uint8Array, Uint8Array] {
  const copy = new Y.Doc();
  Y.applyUpdate(copy, Y.encodeStateAsUpdate(doc));
  const write = (content: string): Uint8Array => {
    const before = Y.encodeStateVector(copy);
    const result = createMessage(copy, { userId: user.id, role: 'member' }, { content });
    if (!result.ok) throw new Error(result.message);
    return Y.encodeStateAsUpdate(copy, before);
  };
  return [write(first), write(second)];
}

/** Whether the socket received a `closed` control frame for `channel`. */
const closedFor = (mux: MuxSocket, channel: number): boolean =>
  mux.raw.received.some((bytes) => {
    const decoded = decodeMuxFrame(bytes);
    return decoded.ok && 'control' in decoded.frame && decoded.frame.control.type === 'closed' && decoded.frame.control.channel === channel;
  });

let t: TestServer;
afterEach(async () => {
  gate.release();
  await t.dispose();
});

describe('a channel whose membership check is pending', () => {
  it('keeps the frames sent right after its open and applies them in order once it opens', async () => {
    t = await startTestServer();
    const ana = await t.login('Ana');
    const roomId = await t.createRoom(ana, []);
    const other = await t.createRoom(ana, []);
    const reader = await MuxSocket.open(t, ana);
    const { doc } = await reader.join(roomId);
    // The second update depends on the first: out of order, the room could not apply it.
    const [first, second] = twoUpdates(doc, ana, 'first', 'second');

    const mux = await MuxSocket.open(t, ana);
    gate.hold();
    const channel = mux.openChannel(roomId);
    mux.sendUpdate(channel, first);
    mux.sendUpdate(channel, second);
    // A later open reaching the gate means the server has read both updates while the first was pending.
    mux.openChannel(other);
    await gate.waiting(2);
    gate.release();

    await mux.next(channel, (f) => f.type === 'ack');
    // The server asked for nothing missing: both applied, in order.
    expect(mux.framesOn(channel).filter((f) => f.type === 'syncStep1')).toHaveLength(1);
    const later = await MuxSocket.open(t, ana);
    const { doc: stored } = await later.join(roomId);
    expect(contents(stored)).toEqual(['first', 'second']);
  });

  it('honours a close sent right after the open: nothing attaches, nothing is sent on it', async () => {
    t = await startTestServer();
    const ana = await t.login('Ana');
    const roomId = await t.createRoom(ana, []);
    const mux = await MuxSocket.open(t, ana);
    gate.hold();
    const closed = mux.openChannel(roomId);
    mux.closeChannel(closed);
    const next = mux.openChannel(roomId);
    await gate.waiting(2);
    gate.release();

    // The channel opened after it is greeted; the closed one's check answered before.
    await mux.next(next, (f) => f.type === 'syncStep1');
    expect(mux.framesOn(closed)).toEqual([]);
    expect(closedFor(mux, closed)).toBe(false);
    expect([...(t.server.registry.get(roomId)?.peers() ?? [])]).toHaveLength(1);
  });

  it('attaches nothing when the socket closed before the check answered', async () => {
    t = await startTestServer();
    const ana = await t.login('Ana');
    const ben = await t.login('Ben');
    const roomId = await t.createRoom(ana, [ben]);
    const other = await t.createRoom(ben, []);
    const mux = await MuxSocket.open(t, ana);
    gate.hold();
    mux.openChannel(roomId);
    await gate.waiting(1);
    mux.close();
    await serverLogs.next((line) => line.msg === 'multiplexed sync connection closed' && line['user'] === ana.id);
    // Ben's open waits behind Ana's at the gate: once he is greeted, Ana's check has answered.
    const benMux = await MuxSocket.open(t, ben);
    const benChannel = benMux.openChannel(other);
    await gate.waiting(2);
    gate.release();
    await benMux.next(benChannel, (f) => f.type === 'syncStep1');

    // Ana's room was never even loaded for her, and holds no peer.
    expect(t.server.registry.get(roomId)).toBeUndefined();
    expect(serverLogs.all((line) => line.msg === 'sync connection opened' && line['room'] === roomId)).toEqual([]);
  });
});
