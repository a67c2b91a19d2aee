import * as Y from 'yjs';
import { sameStateVector } from '../../shared/yjs/sameStateVector.ts';
import type { Logger } from '../log.ts';
import type { CommitStage } from './commit/CommittedBatch.ts';
import type { Room } from './Room.ts';
import { roomOfDoc } from '../../shared/roomDoc/segments.ts';

/**
 * What a follower keeps in step with the loaded room documents (SearchIndexer: the search index;
 * AttachmentTracker: the attachment references). Every call but `observe` runs inside one of the
 * follower's transactions.
 */
export interface FollowerTarget {
  /** Starts noting the ids of changed messages of `room` into `pending` (a Set add, nothing more); returns the stop function. */
  observe(room: Room, pending: Set<string>): () => void;
  /** The ids the document holds that the target follows (looked at, with the recorded ones, when it loads in a state other than the recorded one). */
  held(room: Room): Iterable<string>;
  /**
   * When a document loads at `stateVector`: null if the target holds all of it as it is (the state
   * vector it recorded for it is that one), else the message ids recorded from it. A promise when
   * the target's rows live on another thread (the search worker).
   */
  recordedUnlessSame(docName: string, stateVector: Uint8Array): RecordedIds | Promise<RecordedIds>;
  /** Brings one message of `room` up to date; `others` are the room's other loaded documents (where a moved message may be now). */
  handle(room: Room, id: string, others: () => Iterable<Room>): void;
  recordState(docName: string, stateVector: Uint8Array): void;
  forgetState(docName: string): void;
  transaction(fn: () => void): void;
}

/** What recordedUnlessSame answers: null, or the ids recorded from the document. */
export type RecordedIds = Iterable<string> | null;

/** recordedUnlessSame for a target that keeps the state vectors it recorded at hand. */
export function recordedUnlessSame(recorded: Uint8Array | null, stateVector: Uint8Array, ids: () => Iterable<string>): RecordedIds {
  return recorded !== null && sameStateVector(recorded, stateVector) ? null : ids();
}

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
  /** Message ids changed (or never handled) since last handled. */
  readonly pending: Set<string>;
  readonly unobserve: () => void;
}

/**
 * Keeps derived rows (a FollowerTarget) in step with the loaded room documents, off the sync path
 * (docs/search.md, "When it is indexed"; docs/attachments.md, "Reference tracking"). Observers
 * only note which message ids changed; the commit stage only marks the document due; a timer
 * handles them later, `perTurn` at a time in one transaction per turn. When a document has
 * nothing left waiting, its state vector is recorded: a document loaded in another state (a crash
 * between a commit and its turn, a database from before the target existed) is handled whole.
 */
export class DocumentFollower {
  readonly #target: FollowerTarget;
  readonly #opts: FollowerOptions;
  readonly #logger: Logger;
  readonly #followed = new Map<Room, Followed>();
  /** Loaded documents per room id (a head and its loaded segments). */
  readonly #byRoom = new Map<string, Set<Room>>();
  readonly #due = new Set<Room>();
  /** Loaded documents whose target has not answered (or could not answer) whether it holds them as they are: their state is not recorded. */
  readonly #checking = new Set<Room>();
  #timer: ReturnType<typeof setTimeout> | null = null;
  #closed = false;

  constructor(target: FollowerTarget, opts: FollowerOptions, logger: Logger) {
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
    // since it loaded, but the index does not hold all of it before the answer says it does.
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
    if (pending.size > 0) this.#markDue(room);
    else this.#target.recordState(room.roomId, Y.encodeStateVector(room.doc));
  }

  /** Before a document unloads: what it changed is handled now (up to `maxOnUnload`, else at its next load). */
  roomUnloading(room: Room): void {
    const followed = this.#followed.get(room);
    if (!followed) return;
    try {
      if (followed.pending.size <= this.#opts.maxOnUnload) this.#target.transaction(() => this.#handle(room, followed, Infinity));
      else this.#target.forgetState(room.roomId);
    } catch (err) {
      this.#logger.error({ err, docName: room.roomId }, `${this.#opts.name}: handling a document as it unloads failed`);
    }
    this.#unfollow(room, followed);
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

  /** Handles everything waiting, now (tests; garbage collection before it reads references). */
  flush(): void {
    this.#handleNow((room) => this.#due.has(room));
  }

  /**
   * flush(), and also what observers noted of changes whose commit is still to come (an update is
   * applied a turn before its group commit). Garbage collection runs it right before it deletes,
   * so that an upload a message names is kept even if that message was applied a moment ago. Rows
   * written for a change that is then never stored are made right when the document next loads:
   * its recorded state is then not the stored one, so it is handled whole.
   */
  flushNoted(): void {
    this.#handleNow((room, followed) => followed.pending.size > 0 || this.#due.has(room));
  }

  /** Handles at once, in one transaction, every followed document `which` picks; nothing is due after. */
  #handleNow(which: (room: Room, followed: Followed) => boolean): void {
    if (this.#closed) return;
    this.#target.transaction(() => {
      for (const [room, followed] of this.#followed) if (!room.closed && which(room, followed)) this.#handle(room, followed, Infinity);
    });
    this.#due.clear();
  }

  /** Whether nothing waits (tests wait for it). */
  get idle(): boolean {
    return this.#due.size === 0;
  }

  close(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    for (const [room, followed] of this.#followed) this.#unfollow(room, followed);
    this.#due.clear();
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
    let budget = this.#opts.perTurn;
    try {
      this.#target.transaction(() => {
        for (const room of this.#due) {
          if (budget <= 0) break;
          const followed = this.#followed.get(room);
          if (!followed || room.closed) {
            this.#due.delete(room);
            continue;
          }
          budget -= this.#handle(room, followed, budget);
          if (followed.pending.size === 0) this.#due.delete(room);
        }
      });
    } catch (err) {
      // What was taken from `pending` is lost for now: each due document is handled whole at its next load.
      for (const room of this.#due) this.#forgetQuietly(room);
      this.#logger.error({ err }, `${this.#opts.name}: a background turn failed`);
    }
    if (this.#due.size > 0) this.#arm(this.#opts.gapMs);
  };

  /** Handles up to `max` of the document's pending ids; returns how many. Records its state once none are left. */
  #handle(room: Room, followed: Followed, max: number): number {
    const others = (): Iterable<Room> => [...(this.#byRoom.get(roomIdOf(room)) ?? [])].filter((doc) => doc !== room && !doc.closed);
    let done = 0;
    for (const id of followed.pending) {
      if (done >= max) break;
      followed.pending.delete(id);
      done++;
      this.#target.handle(room, id, others);
    }
    if (followed.pending.size === 0 && !this.#checking.has(room)) this.#target.recordState(room.roomId, Y.encodeStateVector(room.doc));
    return done;
  }

  #forgetQuietly(room: Room): void {
    try {
      this.#target.forgetState(room.roomId);
    } catch {
      // The database is failing already; the turn's error is logged.
    }
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
