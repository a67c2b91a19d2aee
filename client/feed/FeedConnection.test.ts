import { afterEach, describe, expect, it, vi } from 'vitest';
import { FeedConnection } from './FeedConnection.ts';
import { MemoryLocalStore } from '../store/MemoryLocalStore.ts';
import { SyncSocket } from '../sync/SyncSocket.ts';
import { FakeSocket } from '../../test/support/fakeSocket.ts';
import { decodeMuxFrame, encodeOnChannel } from '../../shared/protocol/muxFrames.ts';
import { FeedResumeSchema, feedKeepalive, type FeedChanges, type FeedResume } from '../../shared/models/userFeed.ts';

/*
 * Silence on the feed channel: a device with no room open holds only its feed, so a half-open
 * socket shows as a feed that hears nothing, keepalives included. Timers are faked: the test
 * moves the clock and plays the server.
 */

const FEED_CHANNEL = 1;
const SILENCE_MS = 40_000;
const KEEPALIVE_MS = 15_000;
/** Retries 500 to 1,000 ms after a drop. */
const BACKOFF = { baseMs: 1_000, maxMs: 1_000 };
const encoder = new TextEncoder();
const decoder = new TextDecoder();

afterEach(() => {
  vi.useRealTimers();
});

function feedDevice(): { feed: FeedConnection; store: MemoryLocalStore; shared: SyncSocket; applied: FeedChanges[]; errors: unknown[] } {
  const store = new MemoryLocalStore();
  const shared = new SyncSocket({ serverUrl: 'http://127.0.0.1:1', WebSocket: FakeSocket });
  const applied: FeedChanges[] = [];
  const errors: unknown[] = [];
  const feed = new FeedConnection({
    store,
    openSocket: shared.opener,
    getToken: () => 'token',
    backoff: BACKOFF,
    apply: async (changes) => void applied.push(changes),
    reached: () => {},
    onError: (error) => errors.push(error),
  });
  return { feed, store, shared, applied, errors };
}

/** Opens the shared socket the device made; resolves with it and the resume its feed sent. */
async function accept(created: Promise<FakeSocket>): Promise<{ ws: FakeSocket; resume: FeedResume }> {
  const ws = await created;
  ws.open();
  await vi.advanceTimersByTimeAsync(0);
  const bodies = ws.sent.flatMap((bytes) => {
    const decoded = decodeMuxFrame(bytes);
    return decoded.ok && 'body' in decoded.frame && decoded.frame.channel === FEED_CHANNEL ? [decoded.frame.body] : [];
  });
  expect(bodies).toHaveLength(1);
  return { ws, resume: FeedResumeSchema.parse(JSON.parse(decoder.decode(bodies[0]))) };
}

const frame = (channel: number, changes: FeedChanges): Uint8Array => encodeOnChannel(channel, encoder.encode(JSON.stringify(changes)));
const reset = (cursor: string): FeedChanges => ({ type: 'changes', cursor, reset: true, rooms: [], removed: [], members: [], presence: [] });

describe('FeedConnection silence', () => {
  it('lives on keepalives, and reconnects from its cursor once it hears nothing for 40 s on a socket that heard nothing', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const { feed, store, shared, applied, errors } = feedDevice();
    const created = FakeSocket.next();
    feed.connect();
    const { ws, resume } = await accept(created);
    expect(resume.cursor).toBeNull();
    ws.receive(frame(FEED_CHANNEL, reset('3.1000')));
    await vi.advanceTimersByTimeAsync(0);
    expect(await store.getFeedCursor()).toBe('3.1000');

    // A keepalive every 15 s for a minute: the channel stays, and nothing is applied for them.
    for (let i = 0; i < 4; i++) {
      await vi.advanceTimersByTimeAsync(KEEPALIVE_MS);
      ws.receive(frame(FEED_CHANNEL, feedKeepalive('3.1000')));
    }
    expect(applied).toHaveLength(1);
    expect(ws.readyState).toBe(1);

    // Then nothing: the socket is dead (half-open) once the silence is over, not before.
    await vi.advanceTimersByTimeAsync(SILENCE_MS - 1);
    expect(ws.readyState).toBe(1);
    const reopened = FakeSocket.next();
    await vi.advanceTimersByTimeAsync(1);
    expect(ws.readyState).toBe(3);
    await vi.advanceTimersByTimeAsync(BACKOFF.maxMs);
    const again = await accept(reopened);
    expect(again.resume.cursor).toBe('3.1000');
    expect(errors).toEqual([]);
    await feed.close();
    shared.close();
  });

  it('keeps a quiet feed while the shared socket hears the server on another channel', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const { feed, shared, errors } = feedDevice();
    const created = FakeSocket.next();
    feed.connect();
    const { ws } = await accept(created);
    ws.receive(frame(FEED_CHANNEL, reset('3.1000')));
    // A room's channel beside the feed: the server speaks on it every 10 s, never on the feed.
    const room = shared.channel('0190a3f4-0000-7000-8000-000000000000', 'token');
    const sentBefore = ws.sent.length;
    for (let i = 0; i < 12; i++) {
      await vi.advanceTimersByTimeAsync(10_000);
      ws.receive(encodeOnChannel(2, new Uint8Array([0])));
    }
    // Three silences over: the feed neither closed its channel nor resumed again.
    expect(ws.readyState).toBe(1);
    expect(ws.sent.length).toBe(sentBefore);
    expect(errors).toEqual([]);
    room.close();
    await feed.close();
    shared.close();
  });
});
