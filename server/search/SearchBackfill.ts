import type { Logger } from '../log.ts';
import type { SqliteUpdateStore } from '../storage/SqliteUpdateStore.ts';
import { indexStoredDoc } from './indexStoredDoc.ts';
import type { SearchRepo } from './SearchRepo.ts';

/**
 * Turns are this far apart: one document's decode and rows (a few ms for a segment of 10,000
 * messages in a database that had search; more for a large room from before segments) then most
 * of the time left to the rooms being served.
 */
export const BACKFILL_GAP_MS = 250;
/**
 * A document stored larger than this is not read here, on the event loop: decoding a room from
 * before segments of 100,000 messages takes about half a second. It is indexed when it next loads
 * (the server loads big rooms off the event loop and cuts them into segments, each indexed whole).
 * A sealed segment is at most 4 MiB.
 */
export const MAX_BACKFILL_DOC_BYTES = 8 * 1024 * 1024;

export interface SearchBackfillDeps {
  readonly store: SqliteUpdateStore;
  readonly repo: SearchRepo;
  /** Whether the document is loaded now: the indexer has it (indexed whole on load when it must be). */
  readonly isLoaded: (docName: string) => boolean;
  readonly logger: Logger;
  readonly gapMs?: number;
}

/**
 * Indexes, in the background after the server starts, every stored document the index has never
 * held: a database from before search, upgraded (docs/search.md, "Upgrading"). A document loaded
 * meanwhile is left to the indexer, which indexes it whole on load; one indexed here and loaded
 * later is not indexed again (its state vector is recorded). One document per turn, one
 * transaction each; a failure is logged and the document left to its next load or
 * `parley reindex`. Nothing is recorded when it is done: the next start asks again, which costs
 * one query for the names and one look-up per document.
 */
export class SearchBackfill {
  readonly #d: SearchBackfillDeps;
  #queue: string[] | null = null;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #closed = false;
  #indexedDocs = 0;
  #done: Promise<void>;
  #resolveDone: () => void = () => {};

  constructor(deps: SearchBackfillDeps) {
    this.#d = deps;
    this.#done = new Promise((resolve) => (this.#resolveDone = resolve));
  }

  start(): void {
    this.#arm();
  }

  /** Resolves once every document found at start is indexed or skipped (tests). */
  get done(): Promise<void> {
    return this.#done;
  }

  /** Documents indexed by the backfill so far. */
  get indexedDocs(): number {
    return this.#indexedDocs;
  }

  close(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#resolveDone();
  }

  #arm(): void {
    if (this.#closed || this.#timer) return;
    this.#timer = setTimeout(this.#turn, this.#d.gapMs ?? BACKFILL_GAP_MS);
    this.#timer.unref();
  }

  readonly #turn = (): void => {
    this.#timer = null;
    if (this.#closed) return;
    const { store, repo, isLoaded, logger } = this.#d;
    try {
      if (this.#queue === null) {
        this.#queue = store.docNames().filter((name) => repo.indexedState(name) === null);
        if (this.#queue.length > 0) logger.info({ docs: this.#queue.length }, 'search: indexing stored documents the index has never held');
      }
      const name = this.#queue.shift();
      if (name === undefined) {
        if (this.#indexedDocs > 0) logger.info({ docs: this.#indexedDocs }, 'search: stored documents indexed');
        this.#resolveDone();
        return;
      }
      // Loaded: the indexer has it. Recorded meanwhile (loaded and unloaded): nothing to do.
      if (!isLoaded(name) && repo.indexedState(name) === null && storedBytes(store, name) <= MAX_BACKFILL_DOC_BYTES) {
        indexStoredDoc(store, repo, name);
        this.#indexedDocs += 1;
      }
    } catch (err) {
      logger.error({ err }, 'search: indexing a stored document failed; it is indexed when it next loads');
    }
    this.#arm();
  };
}

function storedBytes(store: SqliteUpdateStore, docName: string): number {
  const { bytes, snapshotBytes } = store.stats(docName);
  return bytes + snapshotBytes;
}
