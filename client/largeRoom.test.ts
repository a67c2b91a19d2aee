import { afterAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { ChatRoom } from './room/ChatRoom.ts';
import type { WebSocketConstructor } from './sync/WebSocketLike.ts';
import { startTestServer } from '../test/support/serverHarness.ts';
import { freshDbName, openTestClient, until } from '../test/support/clientHarness.ts';
import { seedSegmentedRoom } from '../test/support/seededRooms.ts';
import { SEGMENT_MAX_MESSAGES } from '../shared/roomDoc/segments.ts';

const cleanup: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const fn of cleanup.reverse()) await fn();
});

/** The `ws` WebSocket, counting the bytes the client receives. */
function countingWebSocket(): { WebSocket: WebSocketConstructor; received: () => number } {
  let received = 0;
  class Counting extends WebSocket {
    constructor(url: string) {
      super(url);
      this.addEventListener('message', (event) => {
        const data = event.data;
        received += typeof data === 'string' ? Buffer.byteLength(data) : Buffer.isBuffer(data) ? data.byteLength : data instanceof ArrayBuffer ? data.byteLength : 0;
      });
    }
  }
  return { WebSocket: Counting as unknown as WebSocketConstructor, received: () => received };
}

const newestIds = (room: ChatRoom, limit: number): string[] => room.messages({ limit }).messages.map((m) => m.id);

describe('a room of 300,000 messages in segments', () => {
  it('opens on the newest segment, pages back to the first message, and a change in the oldest segment reaches another client', async () => {
    const t = await startTestServer();
    cleanup.push(() => t.dispose());
    const ana = await t.login('Ana');
    const ben = await t.login('Ben');
    const roomId = await t.createRoom(ana, [ben]);
    await t.stop();
    const ids = seedSegmentedRoom(t, roomId, ana.id, 300_000 - 1);
    await t.restart();

    // A new device shows the newest 50 having synced the head and the open segment only.
    const counting = countingWebSocket();
    const client = await openTestClient({ serverUrl: t.url, token: ana.token, dbName: freshDbName('large-room'), WebSocket: counting.WebSocket });
    cleanup.push(() => client.close());
    const room = await client.openRoom(roomId);
    expect(room.segmented || newestIds(room, 50).length === 0).toBe(true);
    await until((c) => room.on('change', c), () => newestIds(room, 50).join() === ids.slice(-50).join(), 'the newest 50 messages');
    expect(room.segmented).toBe(true);
    // The open segment holds 4,999 messages of about 130 bytes; the whole room is about 40 MB.
    expect(counting.received()).toBeLessThan(2 * 1024 * 1024);

    // Paging back, a segment at a time, to the very first message.
    const seen: string[][] = [];
    let beforeId: string | undefined;
    for (;;) {
      await room.loadHistory(beforeId === undefined ? {} : { beforeId });
      const page = room.messages({ limit: 1_000, ...(beforeId === undefined ? {} : { beforeId }) });
      seen.unshift(page.messages.map((m) => m.id));
      if (!page.hasMore) break;
      expect(page.messages.length).toBeGreaterThan(0);
      beforeId = page.messages[0]?.id;
    }
    expect(seen.flat()).toEqual(ids);
    // Segments older than the newest 20 are deleted from the device once out of memory; the newest stay.
    const stored = async (n: number): Promise<boolean> => {
      const log = await client.store.loadRoom(`${roomId}:${n}`);
      return log.snapshot !== null || log.updates.length > 0;
    };
    expect(await stored(10)).toBe(false);
    expect(await stored(50)).toBe(true);

    // Ana edits and reacts to the first message (in segment 0); Ben's device sees both.
    const first = ids[0] ?? '';
    await room.edit(first, { content: 'the very first, edited' });
    await room.react(first, '🎉');
    await room.whenSent(first);
    const benClient = await openTestClient({ serverUrl: t.url, token: ben.token, dbName: freshDbName('large-room-ben') });
    cleanup.push(() => benClient.close());
    const benRoom = await benClient.openRoom(roomId);
    await until((c) => benRoom.on('change', c), () => benRoom.segmented, "Ben's head");
    await benRoom.loadHistory({ beforeId: ids[1] });
    await until(
      (c) => benRoom.on('change', c),
      () => benRoom.getMessage(first)?.content === 'the very first, edited' && (benRoom.getMessage(first)?.reactions['🎉'] ?? []).includes(ana.id),
      'the edit and the reaction on the first message',
    );

    // The 300,000th message fills the open segment: the server seals it and opens the next, and
    // Ana's next message goes there; Ben sees both at the end of the room.
    const filling = await room.send({ content: 'number 300,000' });
    await until((c) => room.on('change', c), () => room.messages({ limit: 1 }).messages[0]?.id === filling.id, 'the 300,000th message');
    await room.whenSent(filling.id);
    const sealedBefore = SEGMENT_MAX_MESSAGES * 60;
    expect(sealedBefore).toBe(300_000);
    const after = await (async () => {
      await until((c) => room.on('change', c), () => room.doc.getMap('segments').size >= 61, 'the next segment to open');
      return room.send({ content: 'in the next segment' });
    })();
    await room.whenSent(after.id);
    await until((c) => benRoom.on('change', c), () => newestIds(benRoom, 2).join() === [filling.id, after.id].join(), "Ben's newest two messages");
  }, 120_000);
});
