import type { Logger } from '../log.ts';
import type { AsyncUpdateStore, UpdateStore } from '../storage/UpdateStore.ts';
import type { Compactor } from '../storage/Compactor.ts';
import type { CommitQueue } from './CommitQueue.ts';
import type { FramePacer } from '../ws/FramePacer.ts';
import { Room, type RoomOptions, type RoomSlices, type UpdateGate } from './Room.ts';
import { type UserRateLimit, UserRateLimiter } from '../limits/UserRateLimiter.ts';
import { parseDocName } from '../../shared/roomDoc/segments.ts';

/**
 * Where documents load from: the synchronous SQLite store (`open` and `acquire` may load at once),
 * or an asynchronous one (PostgreSQL), said so by `asyncStore: true`: every load is then a
 * promise, and only `openReady` and `acquireReady` may load. The flag is checked by the compiler
 * against the store's type (neither store type is assignable to the other).
 */
export type RoomStoreOption = { store: UpdateStore; asyncStore?: false } | { store: AsyncUpdateStore; asyncStore: true };

export type RoomRegistryOptions = RoomStoreOption & RoomRegistrySettings;

/** A loaded document held for a holder until `release` (idempotent). */
export interface RoomLease {
  readonly room: Room;
  readonly release: () => void;
}

/** A document was asked for synchronously (`open`, `acquire`) but is not loaded, and the store loads asynchronously. */
export class RoomNotLoadedError extends Error {
  constructor(readonly docName: string) {
    super(`${docName} is not loaded and the store loads asynchronously: load it with openReady or acquireReady first`);
    this.name = 'RoomNotLoadedError';
  }
}

export interface RoomRegistrySettings {
  compactor: Compactor;
  queue: CommitQueue;
  logger: Logger;
  gate: UpdateGate;
  idleMs: number;
  compactUpdates: number;
  compactBytes: number;
  /** Refuse updates once a stored room would pass this many bytes (default DEFAULT_MAX_DOC_BYTES). */
  maxDocBytes?: number;
  /** Bytes one member may add to one room in a burst and per minute (RoomOptions.memberGrowth); none: unlimited. */
  memberGrowth?: UserRateLimit;
  /**
   * Reads a room and cuts its state into pieces off the main thread (the storage worker); rooms
   * stored larger than `slicedLoadAboveBytes` are loaded this way by openReady.
   */
  loader?: (roomId: string) => Promise<RoomSlices>;
  slicedLoadAboveBytes?: number;
  /** Paces replies of several frames (RoomOptions.pacer). */
  pacer?: FramePacer;
  onLoaded?: (room: Room) => void;
  /** Called just before a room unloads on purpose (idle, shutdown): its document is still readable. */
  onUnloading?: (room: Room) => void;
  /**
   * What openReady awaits before it opens a document for a peer (null: nothing to wait for): the
   * state the gate reads synchronously (the room's memberships), loaded asynchronously.
   */
  prepare?: (docName: string) => Promise<void> | null;
  onUnloaded?: (roomId: string) => void;
  /** What runs after each commit, in order (commit/commitStages.ts). */
  stages: RoomOptions['stages'];
  /** Derived writes before each commit (RoomOptions.beforeCommit). */
  beforeCommit?: RoomOptions['beforeCommit'];
}

/** 128 MiB: about 500,000 messages at Parley's measured 266 bytes each. */
export const DEFAULT_MAX_DOC_BYTES = 128 * 1024 * 1024;

/**
 * The loaded rooms. Unloading is synchronous, so a connection that arrives while a room unloads
 * finds it either still loaded or gone and loads it afresh from storage: never half-unloaded.
 *
 * Loading: with the synchronous store (SQLite) `open` and `acquire` load at once, and
 * `openReady`/`acquireReady` too unless the room is big (read by the storage worker and applied
 * in slices). With an asynchronous store (PostgreSQL) every load is awaited: only `openReady` and
 * `acquireReady` load, and `open`/`acquire` of a document not loaded throw RoomNotLoadedError.
 * Every awaited load is shared by whoever asks meanwhile; a document loaded at once while it was
 * awaited (a sliced load on SQLite) is the registry's, the awaited copy is dropped; one that
 * completes after shutdown began is dropped. A segment's awaited load loads its head first and
 * holds it until the segment is registered, so the head is loaded when the segment's load
 * listeners run (the Segmenter holds it from then on).
 */
export class RoomRegistry {
  readonly #rooms = new Map<string, Room>();
  readonly #idleTimers = new Map<string, NodeJS.Timeout>();
  readonly #opts: RoomRegistryOptions;
  readonly #unloadListeners = new Set<(roomId: string) => void>();
  readonly #loadListeners = new Set<(room: Room) => void>();
  /** Documents being loaded asynchronously (big ones in slices; any with an asynchronous store). */
  readonly #loading = new Map<string, Promise<Room>>();
  /** Every room's per-member growth buckets, kept here so that they outlive a room's unloading. */
  readonly #memberGrowth: UserRateLimiter | undefined;
  #stopped = false;

  constructor(opts: RoomRegistryOptions) {
    this.#opts = opts;
    this.#memberGrowth = opts.memberGrowth ? new UserRateLimiter(opts.memberGrowth) : undefined;
  }

  get(roomId: string): Room | undefined {
    return this.#rooms.get(roomId);
  }

  loaded(): IterableIterator<Room> {
    return this.#rooms.values();
  }

  /** How many documents are loaded (room heads and segments). */
  get loadedCount(): number {
    return this.#rooms.size;
  }

  /** The loaded documents of a room: its own (the head once segmented) and its segments. */
  *docsOf(roomId: string): Generator<Room> {
    for (const [name, room] of this.#rooms) if (parseDocName(name)?.roomId === roomId) yield room;
  }

  /** Whether `open` and `acquire` may load a document (the store is synchronous). */
  get loadsAtOnce(): boolean {
    return !this.#opts.asyncStore;
  }

  /**
   * The loaded room, loading it from storage at once if needed; cancels a pending unload. With an
   * asynchronous store a document not loaded throws RoomNotLoadedError (use openReady).
   */
  open(roomId: string): Room {
    this.#cancelIdle(roomId);
    let room = this.#rooms.get(roomId);
    if (!room) {
      const opts = this.#opts;
      if (opts.asyncStore) throw new RoomNotLoadedError(roomId);
      const started = performance.now();
      room = Room.load(roomId, opts.store, this.#roomOptions());
      this.#register(room, started);
    }
    return room;
  }

  /**
   * The loaded room, or a promise of it while it loads: a big room (stored larger than
   * slicedLoadAboveBytes) is read by the storage worker and applied in slices, so that loading it
   * never holds the event loop for long, and with an asynchronous store every load is awaited;
   * smaller rooms on the synchronous store load at once, as open() does. Either way after
   * `prepare`. Peers (sync, commands) open documents this way.
   */
  openReady(roomId: string): Room | Promise<Room> {
    // What the gate reads (the room's memberships) is in memory before a peer's first frame.
    const preparing = this.#opts.prepare?.(roomId) ?? null;
    return preparing ? preparing.then(() => this.#ready(roomId)) : this.#ready(roomId);
  }

  /**
   * The loaded document, or a promise of it: loaded at once with the synchronous store unless it
   * is big; awaited with an asynchronous store. No `prepare` (the server's own loads).
   */
  #ready(docName: string): Room | Promise<Room> {
    if (this.#rooms.has(docName)) return this.open(docName);
    const loading = this.#loading.get(docName);
    if (loading) return loading;
    // The synchronous store (SQLite) answers at once: a document that is not big loads now.
    const big = this.#opts.asyncStore ? undefined : (this.#isBig(docName) as boolean);
    if (big === false) return this.open(docName);
    const promise = this.#loadLater(docName, big).finally(() => {
      if (this.#loading.get(docName) === promise) this.#loading.delete(docName);
    });
    this.#loading.set(docName, promise);
    return promise;
  }

  /**
   * Loads a document asynchronously and registers it, unless the registry has it by then (loaded
   * at once meanwhile: that one wins) or is shutting down (dropped). A segment's head is loaded
   * first and held meanwhile: nothing a segment's load listeners do needs a load then.
   */
  async #loadLater(docName: string, big?: boolean): Promise<Room> {
    const started = performance.now();
    const parsed = parseDocName(docName);
    const headName = parsed && parsed.segment !== null ? parsed.roomId : null;
    const holder = {};
    let head: RoomLease | null = null;
    try {
      if (headName !== null) head = await this.acquireReady(headName, holder);
      const room = await this.#read(docName, big);
      const current = this.#rooms.get(docName);
      if (current || this.#stopped) {
        room.destroy();
        if (current) return current;
        throw new Error('the server is shutting down');
      }
      // Dropped meanwhile (its commit failed): the segment is not loaded without its head.
      if (head && (head.room.closed || this.#rooms.get(head.room.roomId) !== head.room)) {
        room.destroy();
        throw new Error(`${docName}: its head unloaded while it was loading`);
      }
      this.#register(room, started);
      return room;
    } finally {
      head?.release();
    }
  }

  /** A document read from the store: in slices by the storage worker when it is big (`big`: already known), else whole. */
  async #read(docName: string, big?: boolean): Promise<Room> {
    const { loader } = this.#opts;
    if (loader && (big ?? (await this.#isBig(docName)))) return Room.loadInSlices(docName, await loader(docName), this.#roomOptions());
    return Room.fromStored(docName, await this.#opts.store.load(docName), this.#roomOptions());
  }

  /** Whether the stored document is past `slicedLoadAboveBytes` (loaded in slices by the storage worker); a promise with an asynchronous store. */
  #isBig(docName: string): boolean | Promise<boolean> {
    const { loader, slicedLoadAboveBytes = Infinity, store } = this.#opts;
    if (!loader || slicedLoadAboveBytes === Infinity) return false;
    const stats = store.stats(docName);
    const big = (s: { snapshotBytes: number; bytes: number }): boolean => s.snapshotBytes + s.bytes > slicedLoadAboveBytes;
    return stats instanceof Promise ? stats.then(big) : big(stats);
  }

  #roomOptions(): RoomOptions {
    const { compactor, queue, logger, gate, stages, compactUpdates, compactBytes, maxDocBytes = DEFAULT_MAX_DOC_BYTES } = this.#opts;
    const { loader, slicedLoadAboveBytes, pacer, beforeCommit } = this.#opts;
    const memberGrowth = this.#memberGrowth;
    const wholeRoomFromStorage = loader && slicedLoadAboveBytes !== undefined ? { loader, aboveBytes: slicedLoadAboveBytes } : undefined;
    return {
      compactor, queue, logger, gate, stages, compactUpdates, compactBytes, maxDocBytes,
      onFailed: (failed) => this.#drop(failed),
      ...(wholeRoomFromStorage ? { wholeRoomFromStorage } : {}),
      ...(pacer ? { pacer } : {}),
      ...(beforeCommit ? { beforeCommit } : {}),
      ...(memberGrowth ? { memberGrowth } : {}),
    };
  }

  #register(room: Room, started: number): void {
    this.#rooms.set(room.roomId, room);
    this.#opts.logger.debug({ room: room.roomId, ms: Math.round(performance.now() - started) }, 'room loaded');
    this.#opts.onLoaded?.(room);
    for (const listener of this.#loadListeners) listener(room);
  }

  /**
   * The room, loaded and held for `holder` (a command connection, say) until the returned
   * release runs: a held room never unloads for idleness. The release is idempotent.
   */
  acquire(roomId: string, holder: object): RoomLease {
    return this.#hold(this.open(roomId), holder);
  }

  /**
   * As acquire, loading the document through either store: the lease at once when it is loaded
   * (or the store loads it at once), else a promise of it. No `prepare`: for the server's own
   * loads (segments, heads); peers open with openReady.
   */
  acquireReady(docName: string, holder: object): RoomLease | Promise<RoomLease> {
    const ready = this.#ready(docName);
    if (!(ready instanceof Promise)) return this.#hold(ready, holder);
    return ready.then((room) => {
      // Held in the continuation of its registration; if it was dropped in between (a failed commit), loaded again.
      this.#cancelIdle(docName);
      return room.closed ? this.acquireReady(docName, holder) : this.#hold(room, holder);
    });
  }

  #hold(room: Room, holder: object): RoomLease {
    room.hold(holder);
    return {
      room,
      release: () => {
        if (room.release(holder)) this.released(room);
      },
    };
  }

  /** Subscribes to document loads (after onLoaded); returns the unsubscribe function. */
  onLoadedDoc(listener: (room: Room) => void): () => void {
    this.#loadListeners.add(listener);
    return () => this.#loadListeners.delete(listener);
  }

  /** Subscribes to room unloads (idle, failure, shutdown); returns the unsubscribe function. */
  onUnloaded(listener: (roomId: string) => void): () => void {
    this.#unloadListeners.add(listener);
    return () => this.#unloadListeners.delete(listener);
  }

  /** Called when a connection or holder left: starts the idle timer once the room has none. */
  released(room: Room): void {
    if (room.inUse || room.closed || this.#rooms.get(room.roomId) !== room) return;
    this.#cancelIdle(room.roomId);
    const timer = setTimeout(() => {
      this.#idleTimers.delete(room.roomId);
      if (!room.inUse) this.unload(room.roomId);
    }, this.#opts.idleMs);
    timer.unref();
    this.#idleTimers.set(room.roomId, timer);
  }

  /** Commits and frees a room and asks for its log to be compacted. Its connections (if any) must be closed by the caller. */
  unload(roomId: string): void {
    const room = this.#rooms.get(roomId);
    if (!room) return;
    this.#cancelIdle(roomId);
    room.requestCompaction();
    this.#opts.onUnloading?.(room);
    this.#drop(room);
    this.#opts.logger.debug({ room: roomId }, 'room unloaded');
  }

  /**
   * Unloads every room (shutdown) once everything applied is committed, and resolves when what
   * unloading wrote is committed too; a room still loading in slices is dropped when it is ready.
   */
  async unloadAll(): Promise<void> {
    this.#stopped = true;
    await this.#opts.queue.drain();
    for (const roomId of [...this.#rooms.keys()]) this.unload(roomId);
    await this.#opts.queue.drain();
  }

  #drop(room: Room): void {
    this.#cancelIdle(room.roomId);
    if (this.#rooms.get(room.roomId) === room) this.#rooms.delete(room.roomId);
    room.destroy();
    this.#opts.onUnloaded?.(room.roomId);
    for (const listener of this.#unloadListeners) listener(room.roomId);
  }

  #cancelIdle(roomId: string): void {
    const timer = this.#idleTimers.get(roomId);
    if (timer) clearTimeout(timer);
    this.#idleTimers.delete(roomId);
  }
}
