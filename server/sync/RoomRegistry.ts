import type { Logger } from '../log.ts';
import type { UpdateStore } from '../storage/UpdateStore.ts';
import type { Compactor } from '../storage/Compactor.ts';
import type { CommitQueue } from './CommitQueue.ts';
import type { FramePacer } from '../ws/FramePacer.ts';
import { Room, type RoomOptions, type RoomSlices, type UpdateGate } from './Room.ts';
import { type UserRateLimit, UserRateLimiter } from '../limits/UserRateLimiter.ts';
import { parseDocName } from '../../shared/roomDoc/segments.ts';

export interface RoomRegistryOptions {
  store: UpdateStore;
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
 * The loaded rooms. Loading and unloading are synchronous (better-sqlite3), so a connection
 * that arrives while a room unloads finds it either still loaded or gone and loads it afresh
 * from storage: never half-unloaded.
 */
export class RoomRegistry {
  readonly #rooms = new Map<string, Room>();
  readonly #idleTimers = new Map<string, NodeJS.Timeout>();
  readonly #opts: RoomRegistryOptions;
  readonly #unloadListeners = new Set<(roomId: string) => void>();
  readonly #loadListeners = new Set<(room: Room) => void>();
  /** Big rooms being loaded in slices. */
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

  /** The loaded room, loading it from storage at once if needed; cancels a pending unload. */
  open(roomId: string): Room {
    this.#cancelIdle(roomId);
    let room = this.#rooms.get(roomId);
    if (!room) {
      const started = performance.now();
      room = Room.load(roomId, this.#opts.store, this.#roomOptions());
      this.#register(room, started);
    }
    return room;
  }

  /**
   * The loaded room, or a promise of it while a big room (stored larger than
   * slicedLoadAboveBytes) is read by the storage worker and applied in slices, so that loading it
   * never holds the event loop for long; smaller rooms load at once, as open() does. Either way
   * after `prepare`. Peers (sync, commands) open documents this way.
   */
  openReady(roomId: string): Room | Promise<Room> {
    // What the gate reads (the room's memberships) is in memory before a peer's first frame.
    const preparing = this.#opts.prepare?.(roomId) ?? null;
    return preparing ? preparing.then(() => this.#openReady(roomId)) : this.#openReady(roomId);
  }

  #openReady(roomId: string): Room | Promise<Room> {
    const loaded = this.#rooms.get(roomId);
    if (loaded) return this.open(roomId);
    const loading = this.#loading.get(roomId);
    if (loading) return loading;
    const { loader, slicedLoadAboveBytes = Infinity, store } = this.#opts;
    const stats = store.stats(roomId);
    if (!loader || stats.snapshotBytes + stats.bytes <= slicedLoadAboveBytes) return this.open(roomId);
    const started = performance.now();
    const promise = loader(roomId)
      .then((slices) => Room.loadInSlices(roomId, slices, this.#roomOptions()))
      .then(
        (room) => {
          this.#loading.delete(roomId);
          // Loaded at once meanwhile (a command), or shut down: the room in the registry wins.
          const current = this.#rooms.get(roomId);
          if (current || this.#stopped) {
            room.destroy();
            if (current) return current;
            throw new Error('the server is shutting down');
          }
          this.#register(room, started);
          return room;
        },
        (err: unknown) => {
          this.#loading.delete(roomId);
          throw err;
        },
      );
    this.#loading.set(roomId, promise);
    return promise;
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
  acquire(roomId: string, holder: object): { room: Room; release: () => void } {
    const room = this.open(roomId);
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
