import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { createMessage } from '../../shared/roomDoc/messageOps.ts';
import { listMessages } from '../../shared/roomDoc/queries.ts';
import type { RawSocket } from '../../test/support/rawSocket.ts';
import { acknowledged, connectProvider, startWithRoom, synced, untilDoc, type TwoMemberRoom } from '../../test/support/serverHarness.ts';
import { awarenessFrame, errorFrameOf, errorsOf, openRaw } from '../../test/support/syncFrames.ts';
import { AWARENESS_LIMITS } from './RoomAwareness.ts';

/*
 * One connection must not fill a room's awareness (issue 14: 1.2 million client ids from one
 * socket cost +521 MiB and a 25.8 MB state for every joiner). Past a bound the entry is refused
 * with `error("awareness_refused")`, the connection stays, and a canary writer and reader in the
 * same room keep their acknowledgements and deliveries. The room's byte bound is tested on a
 * Room directly (Room.test.ts): reaching it takes dozens of users.
 */
let s: TwoMemberRoom;
const sockets: RawSocket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.close();
  await s.t.dispose();
});

const entries = (from: number, count: number) => Array.from({ length: count }, (_, i) => ({ clientId: from + i, clock: 1, state: { typing: false } }));

describe('awareness bounds over sockets', () => {
  it('a flood of client ids from one connection and from many of one user is capped; the canaries never notice', async () => {
    s = await startWithRoom();
    // Both canaries are Ana's: every state of Ben's below comes from the raw sockets.
    const writer = connectProvider(s.t, s.roomId, s.ana, new Y.Doc(), { parley: true });
    const reader = connectProvider(s.t, s.roomId, s.ana);
    await Promise.all([synced(writer), synced(reader)]);
    const bens = (): number =>
      [...(s.t.server.registry.get(s.roomId)?.awareness.getStates().values() ?? [])].filter((state) => (state as { user?: { id?: string } }).user?.id === s.ben.id).length;

    const flood = await openRaw(s.t, s.roomId, s.ben);
    sockets.push(flood);
    flood.send(awarenessFrame(entries(100_000, 1000)));
    // The server refuses and applies in one synchronous step: once its error arrives, the states are set.
    await flood.next((m) => errorFrameOf(m) !== null);
    expect(bens()).toBe(AWARENESS_LIMITS.idsPerConnection);
    // One error for the frame, however many entries it refused.
    expect(errorsOf(flood)).toEqual([
      { code: 'awareness_refused', reason: `a connection may hold awareness states for at most ${AWARENESS_LIMITS.idsPerConnection} client ids (${1000 - AWARENESS_LIMITS.idsPerConnection} entries refused)` },
    ]);

    for (let c = 0; c < 5; c++) {
      const more = await openRaw(s.t, s.roomId, s.ben);
      sockets.push(more);
      more.send(awarenessFrame(entries(200_000 + c * 100, AWARENESS_LIMITS.idsPerConnection)));
    }
    await until(() => sockets.slice(1).some((socket) => errorsOf(socket).length > 0));
    expect(bens()).toBe(AWARENESS_LIMITS.idsPerUser);

    // The canaries: an acknowledged write, delivered; the flooders were refused entries, never closed.
    expect(createMessage(writer.doc, { userId: s.ana.id, role: 'owner' }, { content: 'still fine' }).ok).toBe(true);
    await acknowledged(writer);
    await untilDoc(reader.doc, (doc) => listMessages(doc, { limit: 10 }).messages.some((m) => m.content === 'still fine'));
    expect(sockets.every((socket) => errorsOf(socket).every((e) => e.code === 'awareness_refused'))).toBe(true);
    writer.destroy();
    reader.destroy();
  });
});

/** Resolves once `done` holds, checked after each turn of the event loop (the server is in this process). */
async function until(done: () => boolean): Promise<void> {
  while (!done()) await new Promise((resolve) => setImmediate(resolve));
}
