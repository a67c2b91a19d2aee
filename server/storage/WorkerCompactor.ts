import { Worker } from 'node:worker_threads';
import { z } from 'zod';
import type { Logger } from '../log.ts';
import { RUNNING_COMPILED } from '../packagePaths.ts';
import type { CompactionOutcome, Compactor } from './Compactor.ts';

const OutcomeSchema = z.union([
  z.object({
    ok: z.literal(true),
    roomId: z.string(),
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
 * Compacts in a worker thread with its own SQLite connection, so building a snapshot of a large
 * room (hundreds of ms for 100,000 messages) never stalls the sync path. One room at a time; the
 * worker starts on first use and is restarted if it dies.
 */
export class WorkerCompactor implements Compactor {
  readonly #dbFile: string;
  readonly #synchronous: 'NORMAL' | 'FULL';
  readonly #logger: Logger;
  readonly #queue = new Set<string>();
  readonly #listeners = new Set<(outcome: CompactionOutcome) => void>();
  #worker: Worker | null = null;
  #inFlight: { roomId: string; done: () => void; finished: Promise<void> } | null = null;
  #closed = false;

  constructor(dbFile: string, synchronous: 'NORMAL' | 'FULL', logger: Logger) {
    this.#dbFile = dbFile;
    this.#synchronous = synchronous;
    this.#logger = logger;
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
      const parsed = OutcomeSchema.safeParse(raw);
      this.#finish(parsed.success ? parsed.data : { ok: false, roomId: this.#inFlight?.roomId ?? '', error: 'malformed worker reply' });
    });
    worker.on('error', (err) => {
      this.#logger.error({ err }, 'compaction worker crashed');
      this.#worker = null;
      if (this.#inFlight) this.#finish({ ok: false, roomId: this.#inFlight.roomId, error: err.message });
    });
    this.#worker = worker;
    return worker;
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
