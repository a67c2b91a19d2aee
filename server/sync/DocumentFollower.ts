/*
 * Over 350 lines for a reason: one class keeps a follower's notes, its turns and its write queue,
 * which must see each other's state synchronously (what is noted, taken, in flight or kept after a
 * failure); split apart, each would need the others' internals.
 */
import * as Y from 'yjs';
import type { Logger } from '../log.ts';
import type { CommitStage } from './commit/CommittedBatch.ts';
import type { Room } from './Room.ts';
import { roomOfDoc } from '../../shared/roomDoc/segments.ts';

/**
 * What a follower keeps in step with the loaded room documents (SearchIndexer: the search index;
 * AttachmentTracker: the attachment references). The follower reads the documents itself, at once
 * (`handle`, `recordState`: synchronously, while the document is loaded), and gets back the writes
 * to make, `W`; `write` makes a list of them in one transaction, after the previous list is
 * written: synchronously (the search worker's queue) or asynchronously (a database). Reading first
 * and writing after keeps the documents out of the transaction, which awaits nothing but its own
 * statements, and lets a document that unloads while a write is in flight be read before it goes.
 */
export interface FollowerTarget<W> {
  /** Starts noting the ids of changed messages of `room` into `pending` (a Set add, nothing more); returns the stop function. */
  observe(room: Room, pending: Set<string>): () => void;
  /** The ids the document holds that the target follows (looked at, with the recorded ones, when it loads in a state other than the recorded one). */
  held(room: Room): Iterable<string>;
  /**
   * When a document loads at `stateVector`: null if the target holds all of it as it is (the state
   * vector it recorded for it is that one), else the message ids recorded from it. A promise when
   * the target's rows live on another thread or in an asynchronous database.
   */
  recordedUnlessSame(docName: string, stateVector: Uint8Array): RecordedIds | Promise<RecordedIds>;
  /** The writes that bring one message of `room` up to date; `others` are the room's other loaded documents (where a moved message may be now). */
  handle(room: Room, id: string, others: () => Iterable<Room>): readonly W[];
  recordState(docName: string, stateVector: Uint8Array): W;
  forgetState(docName: string): W;
  /** Makes `writes`, in order, in one transaction: returns when done (synchronous targets) or a promise of it. */
  write(writes: readonly W[]): void | Promise<void>;
}

/** What recordedUnlessSame answers: null, or the ids recorded from the document. */
export type RecordedIds = Iterable<string> | null;

export interface FollowerOptions {
  /** For logs: what follows (`search`, `attachments`). */
  readonly name: string;
  /** A committed change waits this long, so that a burst is one transaction. */
  readonly delayMs: number;
  /** Turns are at least this far apart while work remains. */
  readonly gapMs: number;
  /** Messages handled per turn: bounds how long one turn holds the event loop. */
  readonly perTurn: number;
  /** A document unloading with more than this waiting is left to its next load (forgotten), not handled in the unload's turn. */
  readonly maxOnUnload: number;
  /**
   * Mark a document due only when its observer noted ids (the attachment references: most commits
   * touch none, and recording the state after each would be a write per commit). Otherwise every
   * commit makes it due, so its state is recorded and its next load finds nothing to do.
   */
  readonly dueOnlyWithChanges?: boolean;
}

interface Followed {
  /** Message ids changed (or never handled) since last taken into a write. */
  readonly pending: Set<string>;
  readonly unobserve: () => void;
}

/**
 * Keeps derived rows (a FollowerTarget) in step with the loaded room documents, off the sync path
 * (docs/search.md, "When it is indexed"; docs/attachments.md, "Reference tracking"). Observers
 * only note which message ids changed; the commit stage only marks the document due; a timer
 * takes them later, `perTurn` at a time, reads what they need from the documents and writes it in
 * one transaction per turn. When a document has nothing left waiting, its state vector is
 * recorded: a document loaded in another state (a crash between a commit and its turn, a database
 * from before the target existed) is handled whole.
 *
 * Writes take turns: one is in flight at a time, and each reads the documents only when its turn
 * comes, so writes land in the order they were read (a message deleted while the write of its
 * older state is in flight is written deleted after it, never before). A document unloading is
 * read at once, before it goes, and what it needs is written with the next write (`#backlog`). A
 * write that fails is kept, in order, for the next one. `close()` resolves once the writes queued
 * before it are done.
 */
export class DocumentFollower<W> {
  readonly #target: FollowerTarget<W>;
  readonly #opts: FollowerOptions;
  readonly #logger: Logger;
  readonly #followed = new Map<Room, Followed>();
  /** Loaded documents per room id (a head and its loaded segments). */
  readonly #byRoom = new Map<string, Set<Room>>();
  readonly #due = new Set<Room>();
  /** Loaded documents whose target has not answered (or could not answer) whether it holds them as they are: their state is not recorded. */
  readonly #checking = new Set<Room>();
  /** Writes read from documents that unloaded, and of writes that failed: the next write makes them first. */
  #backlog: W[] = [];
  /** Whether a write is queued that will take the backlog. */
  #backlogQueued = false;
  /** Settles when the last queued write has ended; null when none is queued or in flight. */
  #tail: Promise<void> | null = null;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #closed = false;

  constructor(target: FollowerTarget<W>, opts: FollowerOptions, logger: Logger) {
    this.#target = target;
    this.#opts = opts;
    this.#logger = logger;
  }

  /** The commit stage: a followed document with committed updates is due (no SQL here). */
  readonly stage: CommitStage = ({ room, updates }) => {
    const followed = this.#followed.get(room);
    if (updates.length > 0 && followed && (this.#opts.dueOnlyWithChanges !== true || followed.pending.size > 0)) this.#markDue(room);
  };

  /** Starts following a loaded document; handles it whole when the target does not hold it as it is. */
  roomLoaded(room: Room): void {
    if (this.#closed || this.#followed.has(room)) return;
    const pending = new Set<string>();
    this.#followed.set(room, { pending, unobserve: this.#target.observe(room, pending) });
    const roomId = roomIdOf(room);
    const siblings = this.#byRoom.get(roomId);
    if (siblings) siblings.add(room);
    else this.#byRoom.set(roomId, new Set([room]));

    const check = this.#target.recordedUnlessSame(room.roomId, Y.encodeStateVector(room.doc));
    if (!(check instanceof Promise)) return this.#checked(room, check);
    // Until the answer comes, the document's state is not recorded: turns may handle what changed
    // since it loaded, but the target does not hold all of it before the answer says it does.
    this.#checking.add(room);
    check.then(
      (ids) => {
        this.#checking.delete(room);
        this.#checked(room, ids);
      },
      (err: unknown) => {
        // Left in #checking: while it stays loaded its state is never recorded, so its next load
        // (in another state, or with nothing recorded) handles it whole.
        this.#logger.error({ err, docName: room.roomId }, `${this.#opts.name}: reading what was recorded of a loaded document failed; it is handled whole at its next load`);
      },
    );
  }

  /** What the target answered for a document that loaded: handles it whole unless it holds it as it is. */
  #checked(room: Room, recorded: RecordedIds): void {
    const followed = this.#followed.get(room);
    if (recorded === null || !followed || room.closed) return;
    const { pending } = followed;
    for (const id of this.#target.held(room)) pending.add(id);
    for (const id of recorded) pending.add(id);
    if (pending.size > 0) return this.#markDue(room);
    // Nothing to write but its state, read when the write's turn comes (and only if still so).
    this.#write((writes) => {
      if (this.#followed.get(room) === followed && !room.closed && pending.size === 0 && !this.#checking.has(room)) {
        writes.push(this.#target.recordState(room.roomId, Y.encodeStateVector(room.doc)));
      }
    }).catch((err: unknown) => this.#logger.error({ err, docName: room.roomId }, `${this.#opts.name}: recording a loaded document's state failed`));
  }

  /**
   * Before a document unloads: what it changed is read now, while it is still there, and written
   * with the next write (up to `maxOnUnload`; more is left to its next load, its state forgotten).
   */
  roomUnloading(room: Room): void {
    const followed = this.#followed.get(room);
    if (!followed) return;
    try {
      const writes: W[] = [];
      if (followed.pending.size <= this.#opts.maxOnUnload) this.#take(writes, room, followed, Infinity);
      else writes.push(this.#target.forgetState(room.roomId));
      this.#backlog.push(...writes);
    } catch (err) {
      this.#logger.error({ err, docName: room.roomId }, `${this.#opts.name}: reading a document as it unloads failed`);
    }
    this.#unfollow(room, followed);
    this.#writeBacklog();
  }

  /**
   * After a document is dropped (unloaded, or failed without roomUnloading): stops following it.
   * What it still waited for is left to its next load, whose state vector then differs.
   */
  roomUnloaded(docName: string): void {
    const roomId = roomOfDoc(docName);
    for (const room of [...(this.#byRoom.get(roomId) ?? [])]) {
      const followed = this.#followed.get(room);
      // Only the dropped one: a new load of the same document may be followed already.
      if (room.roomId === docName && room.closed && followed) this.#unfollow(room, followed);
    }
  }

  /** Writes everything waiting (after the writes in flight); resolves once written (tests; garbage collection before it lists candidates). */
  flush(): Promise<void> {
    return this.#write((writes) => this.#takeWhere(writes, (room) => this.#due.has(room)));
  }

  /**
   * flush(), and also what observers noted of changes whose commit is still to come (an update is
   * applied a turn before its group commit). Rows written for a change that is then never stored
   * are made right when the document next loads: its recorded state is then not the stored one,
   * so it is handled whole.
   */
  flushNoted(): Promise<void> {
    return this.#write((writes) => this.#takeWhere(writes, (room, followed) => followed.pending.size > 0 || this.#due.has(room)));
  }

  /**
   * Whether anything noted of the room is not taken into a write yet: a loaded document's changed
   * ids, or what an unloaded document left (any room's). Synchronous, so that a caller can check it
   * right before a step that must come after every write of what was applied so far (garbage
   * collection).
   */
  hasNoted(roomId: string): boolean {
    if (this.#backlog.length > 0) return true;
    for (const room of this.#byRoom.get(roomId) ?? []) {
      const followed = this.#followed.get(room);
      if (followed && !room.closed && followed.pending.size > 0) return true;
    }
    return false;
  }

  /** Whether a loaded document of the room waits for the target's answer about it as it loaded (until then, what it held before loading may not be written). */
  unchecked(roomId: string): boolean {
    for (const room of this.#checking) if (roomIdOf(room) === roomId) return true;
    return false;
  }

  /**
   * Runs `job` as one of the follower's writes: after those queued before it, and none of the
   * follower's own start until it ends. `take()` reads, at once, everything noted so far (and what
   * unloaded documents left) and returns every write taken for `job` (those of earlier calls
   * first): `job` makes them in its transaction, all of them again if that transaction runs again.
   * If `job` fails, they are kept for the follower's next write.
   */
  protected exclusive<R>(job: (take: () => readonly W[]) => Promise<R>): Promise<R> {
    return this.#exclusive(async () => {
      const writes: W[] = [];
      const take = (): readonly W[] => {
        writes.push(...this.#takeBacklog());
        this.#takeWhere(writes, (room, followed) => followed.pending.size > 0 || this.#due.has(room));
        return writes;
      };
      try {
        return await job(take);
      } catch (err) {
        this.#keep(writes);
        throw err;
      }
    });
  }

  /** Whether nothing waits (tests wait for it). */
  get idle(): boolean {
    return this.#due.size === 0 && this.#backlog.length === 0 && this.#tail === null;
  }

  /** Stops following; resolves when the writes queued before it (what unloading documents left) are done. */
  close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    for (const [room, followed] of this.#followed) this.#unfollow(room, followed);
    this.#due.clear();
    return this.#tail ?? Promise.resolve();
  }

  #markDue(room: Room): void {
    this.#due.add(room);
    this.#arm(this.#opts.delayMs);
  }

  #arm(ms: number): void {
    if (this.#timer || this.#closed) return;
    this.#timer = setTimeout(this.#turn, ms);
    this.#timer.unref();
  }

  /** One background turn: up to `perTurn` messages of the due documents, in one transaction. */
  readonly #turn = (): void => {
    this.#timer = null;
    this.#write((writes) => {
      if (this.#closed) return;
      let budget = this.#opts.perTurn;
      for (const room of this.#due) {
        if (budget <= 0) break;
        const followed = this.#followed.get(room);
        if (!followed || room.closed) {
          this.#due.delete(room);
          continue;
        }
        budget -= this.#take(writes, room, followed, budget);
        if (followed.pending.size === 0) this.#due.delete(room);
      }
    })
      .catch((err: unknown) => this.#logger.error({ err }, `${this.#opts.name}: a background turn failed; its writes are made again with the next one`))
      .finally(() => {
        if (this.#due.size > 0 || this.#backlog.length > 0) this.#arm(this.#opts.gapMs);
      });
  };

  /** Queues a write of the backlog, unless one is queued already. */
  #writeBacklog(): void {
    if (this.#backlogQueued || this.#backlog.length === 0) return;
    this.#backlogQueued = true;
    this.#write(() => {})
      .catch((err: unknown) => this.#logger.error({ err }, `${this.#opts.name}: writing what unloading documents left failed; it is written again with the next write`));
  }

  /**
   * Queues one write: when its turn comes, the backlog and what `take` reads from the documents,
   * made in one transaction of the target. A failure keeps those writes for the next one.
   */
  #write(take: (writes: W[]) => void): Promise<void> {
    return this.#exclusive(() => {
      const writes = this.#takeBacklog();
      try {
        take(writes);
        if (writes.length === 0) return;
        const written = this.#target.write(writes);
        if (!(written instanceof Promise)) return;
        return written.catch((err: unknown) => {
          this.#keep(writes);
          throw err;
        });
      } catch (err) {
        this.#keep(writes);
        throw err;
      }
    });
  }

  /** Runs `job` once the writes queued before it have ended: at once when none is (a synchronous target's writes never wait). */
  #exclusive<R>(job: () => R | Promise<R>): Promise<R> {
    let result: Promise<R>;
    if (this.#tail === null) {
      let now: R | Promise<R>;
      try {
        now = job();
      } catch (err) {
        return Promise.reject(err instanceof Error ? err : new Error(String(err)));
      }
      if (!(now instanceof Promise)) return Promise.resolve(now);
      result = now;
    } else {
      result = this.#tail.then(job);
    }
    const tail: Promise<void> = result
      .then(
        () => {},
        () => {},
      )
      .then(() => {
        if (this.#tail === tail) this.#tail = null;
      });
    this.#tail = tail;
    return result;
  }

  #takeBacklog(): W[] {
    const writes = this.#backlog;
    this.#backlog = [];
    this.#backlogQueued = false;
    return writes;
  }

  /** Writes that failed: made first by the next write, before anything read later. */
  #keep(writes: readonly W[]): void {
    this.#backlog.unshift(...writes);
    this.#arm(this.#opts.gapMs);
  }

  /** Takes every pending id of the followed documents `which` picks; none of them is due after. */
  #takeWhere(writes: W[], which: (room: Room, followed: Followed) => boolean): void {
    if (this.#closed) return;
    for (const [room, followed] of this.#followed) {
      if (room.closed || !which(room, followed)) continue;
      this.#take(writes, room, followed, Infinity);
      this.#due.delete(room);
    }
  }

  /** Reads up to `max` of the document's pending ids into `writes`; returns how many. Records its state once none are left. */
  #take(writes: W[], room: Room, followed: Followed, max: number): number {
    const others = (): Iterable<Room> => [...(this.#byRoom.get(roomIdOf(room)) ?? [])].filter((doc) => doc !== room && !doc.closed);
    let done = 0;
    for (const id of followed.pending) {
      if (done >= max) break;
      followed.pending.delete(id);
      done++;
      writes.push(...this.#target.handle(room, id, others));
    }
    if (followed.pending.size === 0 && !this.#checking.has(room)) writes.push(this.#target.recordState(room.roomId, Y.encodeStateVector(room.doc)));
    return done;
  }

  #unfollow(room: Room, followed: Followed): void {
    followed.unobserve();
    this.#followed.delete(room);
    this.#checking.delete(room);
    this.#due.delete(room);
    const roomId = roomIdOf(room);
    const siblings = this.#byRoom.get(roomId);
    siblings?.delete(room);
    if (siblings?.size === 0) this.#byRoom.delete(roomId);
  }
}

/** The room a document belongs to (a segment's room, or the document's own name). */
export const roomIdOf = (room: Room): string => roomOfDoc(room.roomId);
