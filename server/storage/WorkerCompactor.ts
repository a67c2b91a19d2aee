import { Worker } from 'node:worker_threads';
import { z } from 'zod';
import type { Logger } from '../log.ts';
import { RUNNING_COMPILED } from '../packagePaths.ts';
import type { CompactionOutcome, Compactor } from './Compactor.ts';
import type { SqliteUpdateStore } from './SqliteUpdateStore.ts';

/** What the worker posts back: the merged room (its snapshot transferred, not copied), or why not. */
const WorkerReplySchema = z.union([
  z.object({
    ok: z.literal(true),
    roomId: z.string(),
    snapshot: z.instanceof(Uint8Array).nullable(),
    upToSeq: z.number(),
    updatesMerged: z.number(),
    bytesBefore: z.number(),
    bytesAfter: z.number(),
  }),
  z.object({ ok: z.literal(false), roomId: z.string(), error: z.string() }),
]);

/**
 * Compiled (the package, `npm start`), the worker is plain JavaScript and starts with no loader:
 * no tsx at run time. From the TypeScript sources (tests, `npm run dev`) the worker is a fresh
 * thread without the parent's TypeScript loader, so it registers tsx (a dev dependency) first.
 */
function startWorker(workerData: unknown): Worker {
  if (RUNNING_COMPILED) return new Worker(new URL('./compactionWorkerMain.js', import.meta.url), { workerData });
  const source = new URL('./compactionWorkerMain.ts', import.meta.url).href;
  const bootstrap = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(source)}); })`;
  return new Worker(bootstrap, { eval: true, workerData });
}

/**
 * Compacts without stalling the sync path, by design rather than by thresholds:
 * - the worker thread only reads (its own SQLite connection; in WAL mode a reader never blocks
 *   the writer) and merges (hundreds of ms of CPU for 100,000 messages, off the main thread);
 * - the main thread writes the result on its own connection, in steps of at most one 256 KiB
 *   chunk each, one step per event-loop turn (SqliteUpdateStore.compactionSteps). No other
 *   connection ever writes, so the group commit never waits for SQLite's write lock (which
 *   better-sqlite3 would do synchronously, holding the event loop), and no step's work grows
 *   with the room's size.
 * One room at a time; the worker starts with the server and is restarted if it dies.
 */
export class WorkerCompactor implements Compactor {
  readonly #dbFile: string;
  readonly #synchronous: 'NORMAL' | 'FULL';
  /** The main thread's store: the only connection that writes. */
  readonly #store: SqliteUpdateStore;
  readonly #logger: Logger;
  readonly #queue = new Set<string>();
  readonly #listeners = new Set<(outcome: CompactionOutcome) => void>();
  #worker: Worker | null = null;
  #inFlight: { roomId: string; done: () => void; finished: Promise<void> } | null = null;
  #closed = false;

  constructor(dbFile: string, synchronous: 'NORMAL' | 'FULL', store: SqliteUpdateStore, logger: Logger) {
    this.#dbFile = dbFile;
    this.#synchronous = synchronous;
    this.#store = store;
    this.#logger = logger;
  }

  /**
   * Starts the worker now, at server start, rather than on the first compaction: starting a
   * thread and loading its modules costs tens of milliseconds of CPU, which would otherwise land
   * on the sync path's busiest moment (the first room past its threshold).
   */
  start(): void {
    if (!this.#closed) this.#ensureWorker();
  }

  request(roomId: string): void {
    if (this.#closed) return;
    this.#queue.add(roomId);
    this.#pump();
  }

  onCompacted(listener: (outcome: CompactionOutcome) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#queue.clear();
    await this.#inFlight?.finished;
    await this.#worker?.terminate();
    this.#worker = null;
  }

  #pump(): void {
    if (this.#inFlight || this.#closed) return;
    const roomId = this.#queue.values().next().value;
    if (roomId === undefined) return;
    this.#queue.delete(roomId);
    let done = () => {};
    const finished = new Promise<void>((resolve) => (done = resolve));
    this.#inFlight = { roomId, done, finished };
    this.#ensureWorker().postMessage({ roomId });
  }

  #ensureWorker(): Worker {
    if (this.#worker) return this.#worker;
    const worker = startWorker({ dbFile: this.#dbFile, synchronous: this.#synchronous });
    worker.unref();
    worker.on('message', (raw: unknown) => {
      const parsed = WorkerReplySchema.safeParse(raw);
      if (!parsed.success) return this.#finish({ ok: false, roomId: this.#inFlight?.roomId ?? '', error: 'malformed worker reply' });
      if (!parsed.data.ok) return this.#finish(parsed.data);
      const { snapshot, ...result } = parsed.data;
      if (!snapshot) return this.#finish({ ...result, ok: true });
      this.#write(this.#store.compactionSteps(result.roomId, snapshot, result.upToSeq), { ...result, ok: true });
    });
    worker.on('error', (err) => {
      this.#logger.error({ err }, 'compaction worker crashed');
      this.#worker = null;
      if (this.#inFlight) this.#finish({ ok: false, roomId: this.#inFlight.roomId, error: err.message });
    });
    this.#worker = worker;
    return worker;
  }

  /** Runs the write steps one per event-loop turn, so commits and frames interleave with them. */
  #write(steps: Generator<void, void, void>, outcome: CompactionOutcome): void {
    const next = (): void => {
      let step: IteratorResult<void, void>;
      try {
        step = steps.next();
      } catch (err) {
        return this.#finish({ ok: false, roomId: outcome.roomId, error: err instanceof Error ? err.message : String(err) });
      }
      if (step.done) this.#finish(outcome);
      else setImmediate(next);
    };
    next();
  }

  #finish(outcome: CompactionOutcome): void {
    const inFlight = this.#inFlight;
    this.#inFlight = null;
    if (outcome.ok) this.#logger.debug(outcome, 'room compacted');
    else this.#logger.error(outcome, 'compaction failed');
    for (const listener of this.#listeners) listener(outcome);
    inFlight?.done();
    this.#pump();
  }
}
