import type { Worker } from 'node:worker_threads';
import { z } from 'zod';
import type { Logger } from '../log.ts';
import { startWorker } from '../workers/startWorker.ts';
import type { StorageWorkerData } from './storageWorkerMain.ts';

/** What the main thread asks the worker (storageWorkerMain.ts answers in order). */
export type StorageWorkerRequest =
  /** Read the room and merge its snapshot and log into one snapshot (for compaction). */
  | { readonly kind: 'merge'; readonly roomId: string }
  /** Read the room, merge it, and cut the state into dependency-ordered updates of about `chunkBytes`. */
  | { readonly kind: 'loadChunks'; readonly roomId: string; readonly chunkBytes: number }
  /** The same frames, with the state's state vector and delete set (serving a document from storage). */
  | { readonly kind: 'servedState'; readonly roomId: string; readonly chunkBytes: number }
  /** What the stored state holds that `stateVector` lacks, as reply frames. */
  | { readonly kind: 'diffChunks'; readonly roomId: string; readonly chunkBytes: number; readonly stateVector: Uint8Array }
  /** The newest `limit` messages of a room's segments `docNames` (newest first), as a recent page's JSON. */
  | { readonly kind: 'newestMessages'; readonly roomId: string; readonly docNames: readonly string[]; readonly limit: number }
  /** Messages `from` to `from + count` of a stored document in id order (the search backfill), with its state vector at the last range. */
  | { readonly kind: 'messageRange'; readonly roomId: string; readonly from: number; readonly count: number }
  /** The attachment references a stored document holds (garbage collection), and which of `recorded` (message ids) it holds at all. */
  | { readonly kind: 'attachmentRefs'; readonly roomId: string; readonly recorded: readonly string[] };

const ReplySchema = z.object({ id: z.number() }).loose();

/** A worker with nothing to do for this long is stopped, giving back its memory (about 30 MiB). */
export const STORAGE_WORKER_IDLE_MS = 60_000;

/**
 * The storage worker thread: its own connection, on which it only reads (SQLite in WAL mode: a
 * reader never blocks the writer; or PostgreSQL), and the CPU-heavy work on what it read (merging, splitting),
 * so none of that runs on the sync path. One request at a time, answered in order. It starts on
 * the first request and stops after STORAGE_WORKER_IDLE_MS without one: a server that compacts
 * nothing holds no second V8 isolate. Starting costs the main thread about 2.5 ms (the thread and
 * its module loading run on their own, at the lowest priority: storageWorkerEntry.ts); the
 * request waits the 20 to 200 ms the worker takes to boot. A worker that dies is started afresh.
 */
export class StorageWorker {
  readonly #workerData: StorageWorkerData;
  readonly #logger: Logger;
  #worker: Worker | null = null;
  #nextId = 1;
  readonly #waiting = new Map<number, { resolve: (reply: Record<string, unknown>) => void; reject: (error: Error) => void }>();
  #closed = false;
  #idleTimer: NodeJS.Timeout | null = null;
  readonly #idleMs: number;

  /** `data`: the database it reads (SQLite's file, or PostgreSQL's URL). */
  constructor(data: StorageWorkerData, logger: Logger, idleMs = STORAGE_WORKER_IDLE_MS) {
    this.#workerData = data;
    this.#logger = logger;
    this.#idleMs = idleMs;
  }

  /** Whether the worker thread is running now. */
  get running(): boolean {
    return this.#worker !== null;
  }

  /** Sends a request; resolves with the worker's reply (parse it), rejects if the worker dies. */
  request(request: StorageWorkerRequest): Promise<Record<string, unknown>> {
    if (this.#closed) return Promise.reject(new Error('the storage worker is closed'));
    const id = this.#nextId++;
    this.#cancelIdle();
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      this.#ensureWorker().postMessage({ id, ...request });
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#cancelIdle();
    await this.#worker?.terminate();
    this.#worker = null;
    this.#failAll(new Error('the storage worker closed'));
  }

  #ensureWorker(): Worker {
    if (this.#worker) return this.#worker;
    const worker = startWorker(import.meta.url, 'storageWorkerEntry', this.#workerData);
    worker.unref();
    worker.on('message', (raw: unknown) => {
      const reply = ReplySchema.safeParse(raw);
      if (!reply.success) return this.#logger.error({ raw }, 'malformed storage worker reply');
      const waiter = this.#waiting.get(reply.data.id);
      this.#waiting.delete(reply.data.id);
      if (this.#waiting.size === 0) this.#idleSoon();
      waiter?.resolve(reply.data);
    });
    worker.on('error', (err) => {
      this.#logger.error({ err }, 'storage worker crashed');
      this.#worker = null;
      this.#failAll(err);
    });
    this.#worker = worker;
    return worker;
  }

  #idleSoon(): void {
    this.#cancelIdle();
    this.#idleTimer = setTimeout(() => {
      this.#idleTimer = null;
      const worker = this.#worker;
      if (!worker || this.#waiting.size > 0) return;
      this.#worker = null;
      void worker.terminate();
      this.#logger.debug('storage worker stopped (idle)');
    }, this.#idleMs);
    this.#idleTimer.unref();
  }

  #cancelIdle(): void {
    if (this.#idleTimer) clearTimeout(this.#idleTimer);
    this.#idleTimer = null;
  }

  #failAll(error: Error): void {
    const waiting = [...this.#waiting.values()];
    this.#waiting.clear();
    for (const waiter of waiting) waiter.reject(error);
  }
}
