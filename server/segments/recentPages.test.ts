import { afterEach, describe, expect, it } from 'vitest';
import { startWithRoom, type TwoMemberRoom } from '../../test/support/serverHarness.ts';
import { withSegmentedHistory } from '../../test/support/seededRooms.ts';
import { RawSocket } from '../../test/support/rawSocket.ts';
import { isStep2, step1Frame } from '../../test/support/syncFrames.ts';
import { decodeServerFrame } from '../../shared/protocol/frames.ts';
import { RECENT_PAGE_SIZE, parseRecentPage } from '../../shared/protocol/recentPage.ts';
import { SEGMENT_MAX_MESSAGES } from '../../shared/roomDoc/segments.ts';

let room: TwoMemberRoom | null = null;
const sockets: RawSocket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.close();
  await room?.t.dispose();
  room = null;
});

/** A socket on the head, asking for the server's state at once (as Parley's SDK does on open). */
async function openHead(r: TwoMemberRoom, parley: boolean): Promise<RawSocket> {
  const socket = await RawSocket.open(`${r.t.syncUrl}/${r.roomId}?token=${r.ana.token}${parley ? '&parley=1' : ''}`);
  sockets.push(socket);
  socket.send(step1Frame());
  return socket;
}

/** The ids of the recent page among the frames a socket received, or null if none came. */
function recentIds(frames: readonly Uint8Array[]): string[] | null {
  for (const frame of frames) {
    const decoded = decodeServerFrame(frame);
    if (decoded.ok && decoded.frame?.type === 'recent') {
      const page = parseRecentPage(decoded.frame.page);
      if (!page.ok) throw new Error(page.reason);
      return page.messages.map((m) => m.id);
    }
  }
  return null;
}

const isRecent = (frame: Uint8Array): boolean => {
  const decoded = decodeServerFrame(frame);
  return decoded.ok && decoded.frame?.type === 'recent';
};

describe('recent pages', () => {
  it('greet a Parley peer of a segmented head with its newest messages across segments, before the head itself once they are loaded; stock peers get none', async () => {
    room = await startWithRoom();
    const r = room;
    // The open segment holds 10: the page reaches into the newest sealed one.
    const ids = await withSegmentedHistory(r.t, r.roomId, r.ben.id, 2 * SEGMENT_MAX_MESSAGES + 10);
    const newest = ids.slice(-RECENT_PAGE_SIZE);

    // The first reader: the segments load (off the event loop when big), then the page comes.
    const first = await openHead(r, true);
    await first.next(isRecent);
    expect(recentIds(first.received)).toEqual(newest);

    // The segments are loaded now: the page goes out in the greeting's turn, before the head's step 2.
    const second = await openHead(r, true);
    await second.next(isStep2);
    const recentAt = second.received.findIndex(isRecent);
    expect(recentAt).toBeGreaterThanOrEqual(0);
    expect(recentAt).toBeLessThan(second.received.findIndex(isStep2));
    expect(recentIds(second.received)).toEqual(newest);

    // A stock client (no parley=1) gets the head's greeting and step 2, and no recent page.
    const stock = await openHead(r, false);
    await stock.next(isStep2);
    expect(recentIds(stock.received)).toBeNull();
  });

  it("a stock peer joining a segmented head loads no segment (the room's summary reads only loaded ones)", async () => {
    room = await startWithRoom();
    const r = room;
    // Two sealed segments and an empty open one: the summary would read the newest sealed one.
    await withSegmentedHistory(r.t, r.roomId, r.ben.id, 2 * SEGMENT_MAX_MESSAGES);
    const stock = await openHead(r, false);
    await stock.next(isStep2);
    const loaded = [...r.t.server.registry.loaded()].map((doc) => doc.roomId);
    expect(loaded).toEqual([r.roomId]);
  });

  it('are not sent for a room in one document', async () => {
    room = await startWithRoom();
    const socket = await openHead(room, true);
    await socket.next(isStep2);
    expect(recentIds(socket.received)).toBeNull();
  });
});
