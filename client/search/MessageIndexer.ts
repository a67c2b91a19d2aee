import type * as Y from 'yjs';
import { isTombstone, roomMaps } from '../../shared/roomDoc/layout.ts';
import { roomIndex } from '../../shared/roomDoc/RoomIndex.ts';
import { parseDocName } from '../../shared/roomDoc/segments.ts';
import type { LocalSearchIndex } from './LocalSearchIndex.ts';

/** Messages read into the index per turn; turns yield to the event loop between them. */
const PER_TURN = 500;
/** Where the page offers idle time (browsers): read in it, leaving this much of it unused. */
const IDLE_SPARE_MS = 1;
/** An idle callback waits at most this long: a page that is never idle still gets indexed. */
const IDLE_TIMEOUT_MS = 2_000;
/**
 * A turn forced by that timeout (the page busy for 2 s: scrolling, a sync) reads for this long
 * at most, so that it fits beside a frame's own work instead of dropping frames.
 */
const FORCED_SLICE_MS = 4;

interface IdleDeadline {
  timeRemaining(): number;
  readonly didTimeout: boolean;
}
type RequestIdle = (run: (deadline: IdleDeadline) => void, opts: { timeout: number }) => number;

/** The page's requestIdleCallback, or null (Node, old Safari). */
const requestIdle = (): RequestIdle | null => {
  const idle = (globalThis as { requestIdleCallback?: RequestIdle }).requestIdleCallback;
  return typeof idle === 'function' ? idle.bind(globalThis) : null;
};

/** A deadline of FORCED_SLICE_MS from now, for a turn the idle callback's timeout forced. */
function forcedSlice(): IdleDeadline {
  const end = performance.now() + FORCED_SLICE_MS;
  return { didTimeout: true, timeRemaining: () => Math.max(0, end - performance.now()) };
}

/** One document being followed (a live replica's) or read once (one loaded from the store at start-up). */
interface Followed {
  readonly docName: string;
  readonly roomId: string;
  readonly doc: Y.Doc;
  readonly live: boolean;
  /** Message ids whose entry is due: read from the document as it is when their turn comes. */
  readonly due: Set<string>;
  /** A stored document's reader waits for its last turn. */
  readonly done: Array<() => void>;
}

/**
 * Keeps the device's index (LocalSearchIndex) current from room documents, never on the path of a
 * write or a sync: an observer of a document's `messages` and `deletions` maps only notes the
 * changed ids, and turns of at most PER_TURN messages, apart by a macrotask, read each noted id
 * from the document as it is then (the server's indexer works the same way, docs/search.md).
 *
 * - A message with text, not deleted and not a system message, is put (an edit replaces it).
 * - A deletion record or a tombstone removes it, remembered as deleted.
 * - An id gone from a document is a message the server moved into a segment (messages are never
 *   removed from a room's map otherwise): its entry stays, it is still in the room.
 * - A document being destroyed (its replica closed) has what it still owes read at once.
 *
 * Live documents are every replica the client loads to sync (rooms open in the foreground, their
 * segments as they open, rooms synced in the background); documents read once are the ones the
 * start-up pass loads from the store (StoredRoomsIndexer). A stored copy read while a live replica
 * of the same document is attached would be older than it: attaching a live one drops the stored
 * one's remaining work, and `generation` lets a stored read that started before notice.
 */
export class MessageIndexer {
  readonly #index: LocalSearchIndex;
  readonly #followed = new Set<Followed>();
  readonly #generations = new Map<string, number>();
  readonly #liveCount = new Map<string, number>();
  #timer: ReturnType<typeof setTimeout> | null = null;
  /** An idle callback is requested. */
  #idle = false;
  #idleWaiters: Array<() => void> = [];
  #closed = false;

  constructor(index: LocalSearchIndex) {
    this.#index = index;
  }

  /** Follows a live document from now until the returned function is called or it is destroyed; every message it holds is due now. */
  attach(docName: string, doc: Y.Doc): () => void {
    const roomId = parseDocName(docName)?.roomId;
    if (roomId === undefined || this.#closed) return () => {};
    this.#generations.set(docName, (this.#generations.get(docName) ?? 0) + 1);
    this.#liveCount.set(docName, (this.#liveCount.get(docName) ?? 0) + 1);
    for (const other of this.#followed) if (other.docName === docName && !other.live) this.#finish(other);
    const followed: Followed = { docName, roomId, doc, live: true, due: new Set(), done: [] };
    const { messages, deletions } = roomMaps(doc);
    const onChange = (event: Y.YMapEvent<unknown>): void => this.#note(followed, event.changes.keys.keys());
    messages.observe(onChange);
    deletions.observe(onChange);
    const onDestroy = (): void => detach();
    let attached = true;
    const detach = (): void => {
      if (!attached) return;
      attached = false;
      messages.unobserve(onChange);
      deletions.unobserve(onChange);
      doc.off('destroy', onDestroy);
      this.#liveCount.set(docName, (this.#liveCount.get(docName) ?? 1) - 1);
      // What it still owes is read now, while the document is still readable.
      this.#drain(followed, Infinity);
      this.#finish(followed);
    };
    doc.on('destroy', onDestroy);
    this.#followed.add(followed);
    this.#note(followed, messages.keys());
    return detach;
  }

  /** Whether a live replica of the document is attached now. */
  isLive(docName: string): boolean {
    return (this.#liveCount.get(docName) ?? 0) > 0;
  }

  /** Counts live attachments of the document: a stored read started at one generation is stale at another. */
  generation(docName: string): number {
    return this.#generations.get(docName) ?? 0;
  }

  /**
   * Reads every message of a document loaded from the store into the index, in turns; resolves
   * when done, or at once when a live replica of it was attached since `generation` (it is newer).
   */
  readStored(docName: string, doc: Y.Doc, generation: number): Promise<void> {
    const roomId = parseDocName(docName)?.roomId;
    if (roomId === undefined || this.#closed || this.generation(docName) !== generation || this.isLive(docName)) return Promise.resolve();
    return new Promise((resolve) => {
      const followed: Followed = { docName, roomId, doc, live: false, due: new Set(), done: [resolve] };
      this.#followed.add(followed);
      this.#note(followed, roomMaps(doc).messages.keys());
      if (followed.due.size === 0) this.#finish(followed);
    });
  }

  /** Forgets what is due for a room's documents (the user left it; the index drops it). */
  forgetRoom(roomId: string): void {
    for (const followed of this.#followed) if (followed.roomId === roomId) followed.due.clear();
  }

  /** Whether messages are waiting for a turn. */
  get busy(): boolean {
    return [...this.#followed].some((f) => f.due.size > 0);
  }

  /** Resolves once nothing is due. */
  idle(): Promise<void> {
    if (!this.busy) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  close(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    for (const followed of this.#followed) {
      followed.due.clear();
      this.#finish(followed);
    }
    this.#wakeIdle();
  }

  #note(followed: Followed, ids: Iterable<string>): void {
    for (const id of ids) followed.due.add(id);
    if (followed.due.size > 0) this.#schedule();
  }

  /**
   * In a browser the next turn runs in the page's idle time (requestIdleCallback), so indexing a
   * segment that just arrived never takes frames from scrolling or typing; elsewhere a macrotask.
   */
  #schedule(): void {
    if (this.#timer !== null || this.#idle || this.#closed) return;
    const idle = requestIdle();
    if (idle) {
      this.#idle = true;
      idle((deadline) => {
        this.#idle = false;
        if (!this.#closed) this.#turn(deadline.didTimeout ? forcedSlice() : deadline);
      }, { timeout: IDLE_TIMEOUT_MS });
      return;
    }
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#turn(null);
    }, 0);
  }

  /** Reads up to PER_TURN due messages, or (given a deadline) as many as the idle period allows. */
  #turn(deadline: IdleDeadline | null): void {
    let budget = PER_TURN;
    for (const followed of this.#followed) {
      if (budget <= 0) break;
      if (deadline) {
        // Small steps, each checked against the idle time left.
        while (budget > 0 && followed.due.size > 0 && deadline.timeRemaining() > IDLE_SPARE_MS) budget -= this.#drain(followed, Math.min(budget, 25));
        if (deadline.timeRemaining() <= IDLE_SPARE_MS) budget = 0;
      } else {
        budget -= this.#drain(followed, budget);
      }
      if (!followed.live && followed.due.size === 0) this.#finish(followed);
    }
    if (this.busy) this.#schedule();
    else this.#wakeIdle();
  }

  /** Reads up to `budget` due ids of the document; answers how many it read. */
  #drain(followed: Followed, budget: number): number {
    let read = 0;
    for (const id of followed.due) {
      if (read >= budget) break;
      followed.due.delete(id);
      this.#read(followed, id);
      read++;
    }
    return read;
  }

  #read({ doc, roomId }: Followed, id: string): void {
    // The document's own index (parsed once, shared with the room's reads). Read in a later turn
    // than the observer that noted the id, so it has seen the change.
    const index = roomIndex(doc);
    const value = index.message(id);
    // Moved into a segment by the server (see the class comment), malformed, or never a message here.
    if (!value) return;
    const deleted = index.deletion(id) !== undefined || isTombstone(value);
    if (deleted || value.type === 'system' || value.content.trim() === '') {
      this.#index.remove(id, { deleted, roomId });
      return;
    }
    this.#index.put({ id, roomId, senderId: value.senderId, content: value.content, createdAt: value.createdAt });
  }

  #finish(followed: Followed): void {
    followed.due.clear();
    this.#followed.delete(followed);
    for (const resolve of followed.done.splice(0)) resolve();
  }

  #wakeIdle(): void {
    for (const resolve of this.#idleWaiters.splice(0)) resolve();
  }
}
