import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../log.ts';
import { MemoryUpdateStore } from '../storage/MemoryUpdateStore.ts';
import { InlineCompactor } from '../storage/InlineCompactor.ts';
import type { AppendEntry, AsyncUpdateStore, ClientBinding, RoomLogStats, StoredRoom } from '../storage/UpdateStore.ts';
import { CommitQueue } from './CommitQueue.ts';
import { RoomNotLoadedError, RoomRegistry } from './RoomRegistry.ts';
import type { Room } from './Room.ts';
import { CORE_COMMIT_STAGES } from './commit/commitStages.ts';
import { segmentDocName } from '../../shared/roomDoc/segments.ts';
import { uuidv4 } from '../../shared/ids.ts';

/*
 * RoomRegistry over an asynchronous store (docs/scale-out.md): an in-memory store whose loads
 * each wait until the test lets them answer, so that what happens while a load is in flight is
 * chosen by the test, not by timing.
 */

/** An asynchronous store over memory; each load answers when `answer(docName)` is called. */
class GatedStore implements AsyncUpdateStore {
  readonly memory = new MemoryUpdateStore();
  /** Document names in the order their loads were asked for. */
  readonly asked: string[] = [];
  readonly #waiting = new Map<string, Array<() => void>>();
  readonly #askedListeners = new Set<() => void>();

  load(docName: string): Promise<StoredRoom> {
    this.asked.push(docName);
    for (const listener of [...this.#askedListeners]) listener();
    return new Promise((resolve) => {
      const list = this.#waiting.get(docName) ?? [];
      list.push(() => resolve(this.memory.load(docName)));
      this.#waiting.set(docName, list);
    });
  }

  /** Resolves once a load of `docName` has been asked for. */
  loadAsked(docName: string): Promise<void> {
    return new Promise((resolve) => {
      const check = (): boolean => this.#waiting.has(docName) || this.asked.includes(docName);
      if (check()) return resolve();
      const listener = (): void => {
        if (!check()) return;
        this.#askedListeners.delete(listener);
        resolve();
      };
      this.#askedListeners.add(listener);
    });
  }

  /** Lets every load of `docName` asked for so far answer. */
  answer(docName: string): void {
    for (const resolve of this.#waiting.get(docName) ?? []) resolve();
    this.#waiting.delete(docName);
  }

  append(entries: readonly AppendEntry[], bindings?: readonly ClientBinding[]): Promise<void> {
    return Promise.resolve(this.memory.append(entries, bindings));
  }
  compact(docName: string, snapshot: Uint8Array, upToSeq: number): Promise<void> {
    return Promise.resolve(this.memory.compact(docName, snapshot, upToSeq));
  }
  stats(docName: string): Promise<RoomLogStats> {
    return Promise.resolve(this.memory.stats(docName));
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

const logger = createLogger('silent');
let registry: RoomRegistry | null = null;
afterEach(async () => {
  await registry?.unloadAll();
  registry = null;
});

function build(opts: { prepare?: (docName: string) => Promise<void> | null; onLoaded?: (room: Room) => void } = {}) {
  const store = new GatedStore();
  const queue = new CommitQueue(store);
  registry = new RoomRegistry({
    store,
    asyncStore: true,
    compactor: new InlineCompactor(store.memory, logger),
    queue,
    logger,
    gate: () => ({ ok: false, refusal: { code: 'forbidden', reason: 'no peers in this test' } }),
    idleMs: 60_000,
    compactUpdates: 1000,
    compactBytes: 1 << 30,
    stages: CORE_COMMIT_STAGES,
    ...opts,
  });
  return { store, registry };
}

describe('RoomRegistry over an asynchronous store', () => {
  it('refuses to load synchronously, and loads once for everyone who asks while the load is in flight', async () => {
    const { store, registry } = build();
    const roomId = uuidv4();
    expect(() => registry.open(roomId)).toThrow(RoomNotLoadedError);
    expect(() => registry.acquire(roomId, {})).toThrow(RoomNotLoadedError);
    const first = registry.openReady(roomId);
    const second = registry.acquireReady(roomId, {});
    const third = registry.openReady(roomId);
    expect(first).toBeInstanceOf(Promise);
    expect(() => registry.open(roomId)).toThrow(RoomNotLoadedError);
    store.answer(roomId);
    const [a, lease, c] = await Promise.all([first, second, third]);
    expect(store.asked).toEqual([roomId]);
    expect(lease.room).toBe(a);
    expect(c).toBe(a);
    expect(lease.room.inUse).toBe(true);
    lease.release();
    expect(lease.room.inUse).toBe(false);
    // Loaded: the synchronous faces answer now.
    expect(registry.open(roomId)).toBe(a);
    expect(registry.openReady(roomId)).toBe(a);
  });

  it('loads a segment after its head, and holds the head until the segment is loaded', async () => {
    const heads: Array<Room | undefined> = [];
    const roomId = uuidv4();
    const { store, registry } = build({ onLoaded: (room) => heads.push(room.roomId === roomId ? undefined : registry?.get(roomId)) });
    const segment = segmentDocName(roomId, 3);
    const loading = registry.acquireReady(segment, {});
    await store.loadAsked(roomId);
    expect(store.asked).toEqual([roomId]);
    store.answer(roomId);
    await store.loadAsked(segment);
    const head = registry.get(roomId);
    // Held by the segment's load: it cannot unload for idleness meanwhile.
    expect(head?.inUse).toBe(true);
    store.answer(segment);
    const { room, release } = await loading;
    expect(store.asked).toEqual([roomId, segment]);
    // When the segment's load listeners ran, its head was loaded.
    expect(heads).toEqual([undefined, head]);
    expect(head?.inUse).toBe(false);
    expect(room.roomId).toBe(segment);
    release();
  });

  it('drops a document whose load completes after shutdown began', async () => {
    const { store, registry } = build();
    const roomId = uuidv4();
    const loading = registry.openReady(roomId);
    await store.loadAsked(roomId);
    const stopped = registry.unloadAll();
    store.answer(roomId);
    await expect(loading).rejects.toThrow(/shutting down/);
    await stopped;
    expect(registry.get(roomId)).toBeUndefined();
    expect(registry.loadedCount).toBe(0);
  });

  it('awaits prepare before loading (openReady), and not for the server own loads (acquireReady)', async () => {
    let prepared: () => void = () => {};
    const preparing = new Promise<void>((resolve) => (prepared = resolve));
    const { store, registry } = build({ prepare: () => preparing });
    const peerRoom = uuidv4();
    const serverRoom = uuidv4();
    const opening = registry.openReady(peerRoom);
    const acquiring = registry.acquireReady(serverRoom, {});
    await store.loadAsked(serverRoom);
    expect(store.asked).toEqual([serverRoom]);
    prepared();
    await store.loadAsked(peerRoom);
    store.answer(peerRoom);
    store.answer(serverRoom);
    expect((await opening).roomId).toBe(peerRoom);
    (await acquiring).release();
  });
});
