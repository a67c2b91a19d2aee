import * as Y from 'yjs';
import type { Logger } from '../log.ts';
import type { Room } from '../sync/Room.ts';
import type { CommitStage } from '../sync/commit/CommittedBatch.ts';
import { roomMaps } from '../../shared/roomDoc/layout.ts';
import { roomIndex } from '../../shared/roomDoc/RoomIndex.ts';
import { parseDocName } from '../../shared/roomDoc/segments.ts';
import { searchEntryOf } from './searchEntryOf.ts';
import type { SearchRepo } from './SearchRepo.ts';

/** A committed change waits this long before it is indexed, so a burst of messages is one transaction. */
export const INDEX_DELAY_MS = 100;
/**
 * Turns are at least this far apart while a backlog remains (a room indexed whole on load): each
 * is a transaction (an fsync with synchronous=FULL) and holds the event loop for its rows.
 */
const INDEX_GAP_MS = 50;
/**
 * Messages indexed per turn: bounds how long one turn holds the event loop. 500 rows into an
 * index of 100,000 took 10 ms median and 30 ms at worst (synchronous=FULL, one run): 200 keeps a
 * turn near 4 ms, at up to 4,000 messages a second while a backlog lasts.
 */
export const ROWS_PER_TURN = 200;
/**
 * A document unloading with more than this waiting is not indexed then (about 20 ms of work at
 * this size, in the unload's turn): it is indexed whole when it next loads.
 */
const MAX_ROWS_ON_UNLOAD = 1_000;

/** What the indexer keeps per loaded document. */
interface Tracked {
  /** Message ids changed (or never indexed) since last indexed. */
  readonly pending: Set<string>;
  readonly unobserve: () => void;
}

/**
 * Keeps the full-text index (docs/search.md) in step with the loaded room documents, off the sync
 * path. Each loaded document's `messages` and `deletions` maps are observed only to note which
 * message ids changed (a Set add, like the mention index); the commit stage only marks the
 * document due. The rows are written later, on a timer, ROWS_PER_TURN at a time in one
 * transaction per turn: an edit replaces the row, a deletion or tombstone removes it.
 *
 * A document loaded whose state differs from the one recorded when the index last held all of it
 * (a database from before search, a crash before its changes were indexed, a reindex) is indexed
 * whole, in the same background turns: every message it holds, and every row recorded as coming
 * from it, which it no longer holds.
 */
export class SearchIndexer {
  readonly #repo: SearchRepo;
  readonly #logger: Logger;
  readonly #tracked = new Map<Room, Tracked>();
  /** Loaded documents per room id (a head and its loaded segments): where a moved message may be now. */
  readonly #byRoom = new Map<string, Set<Room>>();
  readonly #due = new Set<Room>();
  #timer: ReturnType<typeof setTimeout> | null = null;
  #closed = false;

  constructor(deps: { repo: SearchRepo; logger: Logger }) {
    this.#repo = deps.repo;
    this.#logger = deps.logger;
  }

  /** The commit stage: a room whose updates were committed is due (no SQL here). */
  readonly stage: CommitStage = ({ room, updates }) => {
    if (updates.length > 0 && this.#tracked.has(room)) this.#markDue(room);
  };

  /** Starts watching a loaded document; indexes it whole when the index does not hold it as it is. */
  roomLoaded(room: Room): void {
    if (this.#closed || this.#tracked.has(room)) return;
    const pending = new Set<string>();
    const { messages, deletions } = roomMaps(room.doc);
    const observer = (event: Y.YMapEvent<unknown>): void => {
      for (const key of event.changes.keys.keys()) pending.add(key);
    };
    messages.observe(observer);
    deletions.observe(observer);
    this.#tracked.set(room, {
      pending,
      unobserve: () => {
        messages.unobserve(observer);
        deletions.unobserve(observer);
      },
    });
    const roomId = this.#roomIdOf(room);
    const siblings = this.#byRoom.get(roomId);
    if (siblings) siblings.add(room);
    else this.#byRoom.set(roomId, new Set([room]));

    const recorded = this.#repo.indexedState(room.roomId);
    if (recorded && equalBytes(recorded, Y.encodeStateVector(room.doc))) return;
    const index = roomIndex(room.doc);
    for (let i = 0; i < index.size; i++) pending.add(index.idAt(i)!);
    for (const id of this.#repo.idsOf(room.roomId)) pending.add(id);
    if (pending.size > 0) this.#markDue(room);
    else this.#repo.recordIndexed(room.roomId, Y.encodeStateVector(room.doc));
  }

  /** Before a document unloads: what it changed is indexed now (up to MAX_ROWS_ON_UNLOAD, else at its next load). */
  roomUnloading(room: Room): void {
    const tracked = this.#tracked.get(room);
    if (!tracked) return;
    try {
      if (tracked.pending.size <= MAX_ROWS_ON_UNLOAD) this.#repo.transaction(() => this.#index(room, tracked, Infinity));
      else this.#repo.forgetIndexed(room.roomId);
    } catch (err) {
      this.#logger.error({ err, docName: room.roomId }, 'search: indexing a document as it unloads failed');
    }
    this.#untrack(room, tracked);
  }

  /**
   * After a document is dropped (unloaded, or failed without roomUnloading): stops watching it.
   * What it still waited for is left to its next load, whose state vector then differs from the
   * recorded one if anything committed was not indexed.
   */
  roomUnloaded(docName: string): void {
    const roomId = parseDocName(docName)?.roomId ?? docName;
    for (const room of [...(this.#byRoom.get(roomId) ?? [])]) {
      const tracked = this.#tracked.get(room);
      // Only the dropped one: a new load of the same document may be watched already.
      if (room.roomId === docName && room.closed && tracked) this.#untrack(room, tracked);
    }
  }

  /** Indexes everything waiting, now (tests; shutdown goes through roomUnloading). */
  flush(): void {
    if (this.#closed) return;
    this.#repo.transaction(() => {
      for (const room of this.#due) {
        const tracked = this.#tracked.get(room);
        if (tracked) this.#index(room, tracked, Infinity);
      }
    });
    this.#due.clear();
  }

  /** Whether nothing waits to be indexed (tests wait for it). */
  get idle(): boolean {
    return this.#due.size === 0;
  }

  close(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    for (const [room, tracked] of this.#tracked) this.#untrack(room, tracked);
    this.#due.clear();
  }

  #markDue(room: Room): void {
    this.#due.add(room);
    this.#arm(INDEX_DELAY_MS);
  }

  #arm(ms: number): void {
    if (this.#timer || this.#closed) return;
    this.#timer = setTimeout(this.#turn, ms);
    this.#timer.unref();
  }

  /** One background turn: up to ROWS_PER_TURN messages of the due documents, in one transaction. */
  readonly #turn = (): void => {
    this.#timer = null;
    let budget = ROWS_PER_TURN;
    try {
      this.#repo.transaction(() => {
        for (const room of this.#due) {
          if (budget <= 0) break;
          const tracked = this.#tracked.get(room);
          if (!tracked || room.closed) {
            this.#due.delete(room);
            continue;
          }
          budget -= this.#index(room, tracked, budget);
          if (tracked.pending.size === 0) this.#due.delete(room);
        }
      });
    } catch (err) {
      // What was taken from `pending` is lost for now; the document is indexed whole at its next load.
      for (const room of this.#due) this.#forgetQuietly(room);
      this.#logger.error({ err }, 'search: an indexing turn failed');
    }
    if (this.#due.size > 0) this.#arm(INDEX_GAP_MS);
  };

  /**
   * Indexes up to `max` of the document's pending ids; returns how many. When none are left,
   * records the document's state vector: the index holds all of it as it is now.
   */
  #index(room: Room, tracked: Tracked, max: number): number {
    const index = roomIndex(room.doc);
    const roomId = this.#roomIdOf(room);
    let done = 0;
    for (const id of tracked.pending) {
      if (done >= max) break;
      tracked.pending.delete(id);
      done++;
      const entry = searchEntryOf(index, roomId, id);
      if (entry) {
        this.#repo.put(room.roomId, entry);
      } else if (index.message(id)) {
        // Here, but not searchable (deleted, a system message, empty): no row, from any document.
        this.#repo.drop(id);
      } else {
        this.#repo.remove(room.roomId, id);
        // Moved to another loaded document of the room: indexed from there (whichever went first).
        const home = this.#homeOf(roomId, room, id);
        if (home) {
          const moved = searchEntryOf(roomIndex(home.doc), roomId, id);
          if (moved) this.#repo.put(home.roomId, moved);
        }
      }
    }
    if (tracked.pending.size === 0) this.#repo.recordIndexed(room.roomId, Y.encodeStateVector(room.doc));
    return done;
  }

  /** Another loaded document of the room holding the message. */
  #homeOf(roomId: string, except: Room, id: string): Room | null {
    for (const doc of this.#byRoom.get(roomId) ?? []) if (doc !== except && !doc.closed && roomIndex(doc.doc).message(id)) return doc;
    return null;
  }

  #roomIdOf(room: Room): string {
    return parseDocName(room.roomId)?.roomId ?? room.roomId;
  }

  #forgetQuietly(room: Room): void {
    try {
      this.#repo.forgetIndexed(room.roomId);
    } catch {
      // The database is failing already; the turn's error is logged.
    }
  }

  #untrack(room: Room, tracked: Tracked): void {
    tracked.unobserve();
    this.#tracked.delete(room);
    this.#due.delete(room);
    const roomId = this.#roomIdOf(room);
    const siblings = this.#byRoom.get(roomId);
    siblings?.delete(room);
    if (siblings?.size === 0) this.#byRoom.delete(roomId);
  }
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}
