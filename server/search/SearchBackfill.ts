import type { Logger } from '../log.ts';
import type { SqliteUpdateStore } from '../storage/SqliteUpdateStore.ts';
import { parseDocName } from '../../shared/roomDoc/segments.ts';
import type { SearchWorker } from './SearchWorker.ts';
import type { SearchOp } from './searchWorkerProtocol.ts';
import type { ReadMessageRange, StoredMessage } from './StoredMessages.ts';

/** Turns are at least this far apart: most of the time stays with the rooms being served. */
export const BACKFILL_GAP_MS = 50;
/**
 * Messages indexed per turn, at up to about 1,000 messages a second: an upgrade is a one-time job,
 * and the rooms served come first. The event loop only passes them on (the storage worker decodes
 * them, the search worker writes them, about 35 µs a row with the prefix indexes, more while FTS5
 * merges its segments); the next turn waits for the write, so the backfill never runs ahead of
 * the search worker.
 */
export const BACKFILL_ROWS_PER_TURN = 50;
/**
 * A document stored larger than this is left to its next load (which cuts a room from before
 * segments into segments, each then indexed whole): the storage worker would hold all of it
 * decoded, several times its size.
 */
export const MAX_BACKFILL_DOC_BYTES = 32 * 1024 * 1024;

export interface SearchBackfillDeps {
  readonly store: SqliteUpdateStore;
  readonly worker: SearchWorker;
  /** Reads a stored document's messages range by range, decoded off the main thread. */
  readonly readRange: ReadMessageRange;
  /** Whether the document is loaded now: the indexer has it (indexed whole on load when it must be). */
  readonly isLoaded: (docName: string) => boolean;
  readonly logger: Logger;
  readonly gapMs?: number;
}

/** The document being indexed: where its next range starts, and whether it loaded meanwhile. */
interface Current {
  readonly docName: string;
  readonly roomId: string;
  next: number;
  loaded: boolean;
}

/**
 * Indexes, in the background after the server starts, every stored document the index has never
 * held: a database from before search, upgraded (docs/search.md, "Upgrading"). The storage
 * worker decodes each document and hands its messages over BACKFILL_ROWS_PER_TURN at a time; each
 * range is one write of the search worker, turns BACKFILL_GAP_MS apart, so neither the event loop
 * the rooms share nor the search worker ever holds a whole document's work. With its last range the document's state
 * vector is recorded, so loading it later does not index it again.
 *
 * A document that loads meanwhile is left to the indexer (`roomLoaded`), which indexes a document
 * whole on load whenever the recorded state differs; the ranges read before stay (the indexer
 * replaces or removes each row it covers). A failure is logged and the document left to its next
 * load or `parley reindex`. Nothing is recorded when the backfill is done: the next start asks
 * again, which costs one query for the names and one look-up per document.
 */
export class SearchBackfill {
  readonly #d: SearchBackfillDeps;
  #queue: string[] | null = null;
  #current: Current | null = null;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #closed = false;
  #indexedDocs = 0;
  #indexedMessages = 0;
  readonly #done: Promise<void>;
  #resolveDone: () => void = () => {};

  constructor(deps: SearchBackfillDeps) {
    this.#d = deps;
    this.#done = new Promise((resolve) => (this.#resolveDone = resolve));
  }

  start(): void {
    this.#arm();
  }

  /** A document loaded: if it is the one being read, the indexer takes it from here. */
  roomLoaded(docName: string): void {
    if (this.#current?.docName === docName) this.#current.loaded = true;
  }

  /** Resolves once every document found at start is indexed or skipped (or the backfill closed). */
  get done(): Promise<void> {
    return this.#done;
  }

  /** Documents (and their messages) indexed by the backfill so far. */
  get indexed(): { readonly docs: number; readonly messages: number } {
    return { docs: this.#indexedDocs, messages: this.#indexedMessages };
  }

  close(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#resolveDone();
  }

  #arm(): void {
    if (this.#closed || this.#timer) return;
    this.#timer = setTimeout(() => void this.#turn(), this.#d.gapMs ?? BACKFILL_GAP_MS);
    this.#timer.unref();
  }

  async #turn(): Promise<void> {
    this.#timer = null;
    if (this.#closed) return;
    const { logger } = this.#d;
    try {
      const current = this.#current ?? (await this.#nextDoc());
      if (this.#closed) return;
      if (current === null) {
        if (this.#indexedDocs > 0) logger.info(this.indexed, 'search: stored documents indexed');
        this.#resolveDone();
        return;
      }
      await this.#range(current);
    } catch (err) {
      if (this.#closed) return;
      logger.error({ err, docName: this.#current?.docName }, 'search: indexing a stored document failed; it is indexed when it next loads');
      this.#current = null;
    }
    this.#arm();
  }

  /** The next document to index, or null when none is left. */
  async #nextDoc(): Promise<Current | null> {
    const { store, worker, isLoaded, logger } = this.#d;
    if (this.#queue === null) {
      this.#queue = await worker.unindexed(store.docNames());
      if (this.#queue.length > 0) logger.info({ docs: this.#queue.length }, 'search: indexing stored documents the index has never held');
    }
    for (let name = this.#queue.shift(); name !== undefined; name = this.#queue.shift()) {
      const roomId = parseDocName(name)?.roomId;
      // Loaded: the indexer has it. Too big: cut into segments, each indexed whole, when it next loads.
      if (roomId === undefined || isLoaded(name) || storedBytes(store, name) > MAX_BACKFILL_DOC_BYTES) continue;
      // Recorded meanwhile (loaded and unloaded): nothing to do.
      if ((await worker.unindexed([name])).length === 0 || this.#closed || isLoaded(name)) continue;
      this.#current = { docName: name, roomId, next: 0, loaded: false };
      return this.#current;
    }
    return null;
  }

  /** Reads and indexes the document's next range; records it indexed after its last. */
  async #range(current: Current): Promise<void> {
    const { worker, readRange } = this.#d;
    const range = await readRange(current.docName, current.next, BACKFILL_ROWS_PER_TURN);
    if (this.#closed) return;
    if (current.loaded) {
      this.#current = null;
      return;
    }
    const ops: SearchOp[] = range.messages.map((message) =>
      searchable(message)
        ? { op: 'put', docName: current.docName, entry: { roomId: current.roomId, messageId: message.id, senderId: message.senderId, createdAt: message.createdAt, content: message.content } }
        : { op: 'drop', messageId: message.id },
    );
    if (range.stateVector) ops.push({ op: 'record', docName: current.docName, stateVector: range.stateVector });
    await worker.write(ops);
    this.#indexedMessages += ops.filter((op) => op.op === 'put').length;
    current.next += BACKFILL_ROWS_PER_TURN;
    if (range.stateVector) {
      this.#current = null;
      this.#indexedDocs += 1;
    }
  }
}

/** As searchEntryOf decides: no deleted, system or empty messages. */
const searchable = (m: StoredMessage): boolean => !m.deleted && m.type !== 'system' && m.content.trim() !== '';

function storedBytes(store: SqliteUpdateStore, docName: string): number {
  const { bytes, snapshotBytes } = store.stats(docName);
  return bytes + snapshotBytes;
}
