import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../log.ts';
import { MemoryUpdateStore } from '../storage/MemoryUpdateStore.ts';
import { InlineCompactor } from '../storage/InlineCompactor.ts';
import { CommitQueue } from '../sync/CommitQueue.ts';
import { RoomRegistry } from '../sync/RoomRegistry.ts';
import { CORE_COMMIT_STAGES } from '../sync/commit/commitStages.ts';
import type { Room } from '../sync/Room.ts';
import { RoomFeeds } from './RoomFeeds.ts';
import { RoomSubscription } from './RoomSubscription.ts';
import type { FeedEvent } from './RoomEventFeed.ts';
import { createMessage, editMessage } from '../../shared/roomDoc/messageOps.ts';
import { PeerStateSchema } from '../../shared/protocol/awarenessStates.ts';
import { uuidv4 } from '../../shared/ids.ts';

/*
 * The event feed and a subscription on an in-memory room, with the commit queue flushed by hand:
 * events wait for the commit, typing clears itself, a held room does not unload.
 */
const USER = { id: uuidv4(), name: 'Ana' };
const ACTOR = { userId: USER.id, role: 'member' as const };
let store: MemoryUpdateStore;
let queue: CommitQueue;
let registry: RoomRegistry;
const roomId = uuidv4();

beforeEach(() => {
  store = new MemoryUpdateStore();
  queue = new CommitQueue(store);
  registry = new RoomRegistry({
    store,
    compactor: new InlineCompactor(store, createLogger('silent')),
    queue,
    logger: createLogger('silent'),
    gate: () => ({ ok: false, refusal: { code: 'forbidden', reason: 'no sync connections in this test' } }),
    idleMs: 0,
    compactUpdates: 1000,
    compactBytes: 1 << 30,
    stages: CORE_COMMIT_STAGES,
  });
});
afterEach(async () => {
  vi.useRealTimers();
  await registry.unloadAll();
});

const typingOf = (room: Room): boolean[] =>
  [...room.awareness.getStates().values()].flatMap((raw) => {
    const state = PeerStateSchema.safeParse(raw);
    return state.success && state.data.user.id === USER.id ? [state.data.typing === true] : [];
  });

describe('RoomEventFeed', () => {
  it('pushes document events only once the change is committed, in order', () => {
    const { room, release } = registry.acquire(roomId, {});
    const feeds = new RoomFeeds(() => 'Ana');
    const seen: FeedEvent[] = [];
    const unsubscribe = feeds.subscribe(room, (e) => seen.push(e));
    const created = createMessage(room.doc, ACTOR, { content: 'one' });
    if (!created.ok) throw new Error(created.message);
    expect(editMessage(room.doc, ACTOR, { id: created.id, content: 'two' }).ok).toBe(true);
    expect(seen).toEqual([]);
    queue.flush();
    expect(seen.map((e) => e.event.type)).toEqual(['message_created', 'message_edited']);
    // The frame is the event in the response envelope, serialised once for every subscriber.
    expect(JSON.parse(seen[0]?.frame ?? '')).toMatchObject({ type: 'message_created', success: true, error: null, data: { message: { content: 'one', sender_name: 'Ana' } } });
    unsubscribe();
    expect(feeds.size).toBe(0);
    release();
  });
});

describe('RoomSubscription', () => {
  it('shows the user in awareness, clears typing after the timeout, and leaves no trace when ended', () => {
    vi.useFakeTimers();
    const feeds = new RoomFeeds(() => 'Ana');
    const { room, release } = registry.acquire(roomId, {});
    const sub = new RoomSubscription({ room, release, feeds, user: USER, send: () => {}, typingTimeoutMs: 5000 });
    expect(typingOf(room)).toEqual([false]);
    sub.typing(true);
    expect(typingOf(room)).toEqual([true]);
    vi.advanceTimersByTime(4999);
    sub.typing(true);
    vi.advanceTimersByTime(4999);
    expect(typingOf(room)).toEqual([true]);
    vi.advanceTimersByTime(1);
    expect(typingOf(room)).toEqual([false]);
    expect(room.inUse).toBe(true);
    sub.end();
    expect(typingOf(room)).toEqual([]);
    expect(feeds.size).toBe(0);
    expect(room.inUse).toBe(false);
    vi.advanceTimersByTime(0);
    expect(registry.get(roomId)).toBeUndefined();
  });
});
