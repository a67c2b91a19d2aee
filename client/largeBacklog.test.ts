import { afterAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { ChatRoom } from './room/ChatRoom.ts';
import type { WebSocketConstructor } from './sync/WebSocketLike.ts';
import { startTestServer } from '../test/support/serverHarness.ts';
import { allSent, freshDbName, openTestClient, stoppedServerWithRoom, until } from '../test/support/clientHarness.ts';

const cleanup: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const fn of cleanup.reverse()) await fn();
});

/** The `ws` WebSocket, recording every close code and the size of every frame the client sends. */
function recordingWebSocket(): { WebSocket: WebSocketConstructor; closes: number[]; largestFrame: () => number; frames: () => number; bytes: () => number } {
  const closes: number[] = [];
  let largest = 0;
  let count = 0;
  let total = 0;
  class Recording extends WebSocket {
    constructor(url: string) {
      super(url);
      this.addEventListener('close', (event) => closes.push(event.code));
    }
    override send(data: Uint8Array): void {
      largest = Math.max(largest, data.byteLength);
      count += 1;
      total += data.byteLength;
      super.send(data);
    }
  }
  return { WebSocket: Recording as unknown as WebSocketConstructor, closes, largestFrame: () => largest, frames: () => count, bytes: () => total };
}

const BODY = 'x'.repeat(150);
/** Every message id of the room, oldest first (pages of at most 1,000). */
function allIds(room: ChatRoom): string[] {
  const pages: string[][] = [];
  let beforeId: string | undefined;
  for (;;) {
    const page = room.messages({ limit: 1_000, ...(beforeId === undefined ? {} : { beforeId }) });
    pages.unshift(page.messages.map((m) => m.id));
    if (!page.hasMore || page.messages.length === 0) return pages.flat();
    beforeId = page.messages[0]!.id;
  }
}
const REFUSALS = [1009, 4422, 4529];

describe('a large unsent backlog', () => {
  it('6,000 messages sent in one burst online all become sent, and another member gets each exactly once', async () => {
    const t = await startTestServer();
    cleanup.push(() => t.dispose());
    const ana = await t.login('Ana');
    const bob = await t.login('Bob');
    const roomId = await t.createRoom(ana, [bob]);
    const recording = recordingWebSocket();
    const client = await openTestClient({ serverUrl: t.url, token: ana.token, dbName: freshDbName('burst'), WebSocket: recording.WebSocket });
    cleanup.push(() => client.close());
    const room = await client.openRoom(roomId);
    await until((c) => room.on('connection', c), () => room.connectionState === 'online', 'Ana online');

    const sends: Array<Promise<{ id: string }>> = [];
    for (let i = 0; i < 6_000; i++) sends.push(room.send({ content: `${i} ${BODY}` }));
    const ids = (await Promise.all(sends)).map((m) => m.id);
    await until((c) => room.on('states', c), () => allSent(room, ids), 'all 6,000 to be sent', 25_000);
    expect(recording.closes.filter((code) => REFUSALS.includes(code))).toEqual([]);
    if (process.env.PARLEY_TEST_VERBOSE) console.log('online burst', { frames: recording.frames(), bytes: recording.bytes(), largest: recording.largestFrame(), closes: recording.closes });

    const bobClient = await openTestClient({ serverUrl: t.url, token: bob.token, dbName: freshDbName('burst-bob') });
    cleanup.push(() => bobClient.close());
    const bobRoom = await bobClient.openRoom(roomId);
    await until((c) => bobRoom.on('change', c), () => allIds(bobRoom).length >= 6_000, "Bob's copy to hold 6,000 messages", 25_000);
    expect(allIds(bobRoom)).toEqual(ids);
    expect(recording.largestFrame()).toBeLessThanOrEqual(512 * 1024);
  }, 60_000);

  it('a device that wrote over 2 MiB offline reconnects and gets everything sent, in frames under the budget, with no socket closed for its size, rate or dependencies', async () => {
    const { server: first, serverUrl, ana, bob, roomId, restart } = await stoppedServerWithRoom();
    cleanup.push(() => first.dispose());
    const recording = recordingWebSocket();
    const client = await openTestClient({ serverUrl, token: ana.token, dbName: freshDbName('offline-backlog'), WebSocket: recording.WebSocket });
    cleanup.push(() => client.close());
    const room = await client.openRoom(roomId);
    const sends: Array<Promise<{ id: string }>> = [];
    for (let i = 0; i < 10_000; i++) sends.push(room.send({ content: `${i} ${BODY}` }));
    const ids = (await Promise.all(sends)).map((m) => m.id);
    // Edits, reactions and reads in the backlog too: the split must keep what they name in order.
    for (let i = 0; i < 10_000; i += 97) {
      await room.edit(ids[i]!, { content: `edited ${i}` });
      await room.react(ids[i]!, '👍');
      await room.markRead(ids[i]!);
    }
    expect(room.messageState(ids[0]!)).toEqual({ state: 'pending' });

    const second = await restart();
    cleanup.push(() => second.dispose());
    await until((c) => room.on('states', c), () => allSent(room, ids), 'all 10,000 offline messages to be sent', 25_000);
    expect(recording.closes.filter((code) => REFUSALS.includes(code))).toEqual([]);
    expect(recording.largestFrame()).toBeLessThanOrEqual(512 * 1024);
    expect(recording.bytes()).toBeGreaterThan(2 * 1024 * 1024);
    expect(room.refusal).toBeNull();
    if (process.env.PARLEY_TEST_VERBOSE) console.log('offline backlog', { frames: recording.frames(), bytes: recording.bytes(), largest: recording.largestFrame(), closes: recording.closes });

    const bobClient = await openTestClient({ serverUrl, token: bob.token, dbName: freshDbName('offline-backlog-bob') });
    cleanup.push(() => bobClient.close());
    const bobRoom = await bobClient.openRoom(roomId);
    await until((c) => bobRoom.on('change', c), () => allIds(bobRoom).length >= 10_000, "Bob's copy to hold 10,000 messages", 25_000);
    expect(allIds(bobRoom)).toEqual(ids);
    expect(bobRoom.getMessage(ids[97]!)).toMatchObject({ content: 'edited 97', reactions: { '👍': [ana.id] } });
  }, 60_000);
});
