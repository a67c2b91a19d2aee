import type { Worker } from 'node:worker_threads';
import type { Logger } from '../log.ts';
import { startWorker } from '../workers/startWorker.ts';
import type { SearchHit, SearchQuery } from './SearchRepo.ts';
import { type SearchOp, type SearchWorkerAsk, type SearchWorkerData, type SearchWorkerReply, SearchWorkerReplySchema } from './searchWorkerProtocol.ts';

type Answer = Extract<SearchWorkerReply, { ok: true }>;

/** A thread that died is started again no sooner than this, doubling while it keeps dying, up to MAX_BACKOFF_MS. */
const FIRST_BACKOFF_MS = 1_000;
const MAX_BACKOFF_MS = 60_000;

interface Waiting {
  readonly resolve: (reply: Answer) => void;
  readonly reject: (error: Error) => void;
  /** The documents a write names: forgotten if the thread dies before it answers. */
  readonly docNames?: readonly string[];
}

/**
 * The search index's own thread (docs/search.md, "Where the index lives"): it owns the index's
 * SQLite file (openSearchDatabase.ts), or this node's connection to the index on PostgreSQL
 * (PgSearchRepo.ts), applies the indexer's and the backfill's writes and runs the searches, so an
 * FTS5 write or segment merge never runs on the event loop the rooms share, nor holds the write
 * lock of the database the rooms commit to. Requests are answered in the order sent: a search or
 * a check sees every write sent before it.
 *
 * The thread starts with the server and lives as long: the index may be in its memory (tests). One
 * that dies is started afresh on the next request after a pause (1 s, doubling while it keeps
 * dying, up to a minute; requests meanwhile are refused), and each document named by a write it
 * did not answer, or refused, is forgotten first (indexed whole at its next load).
 */
export class SearchWorker {
  readonly #data: SearchWorkerData;
  readonly #logger: Logger;
  #worker: Worker | null = null;
  #nextId = 1;
  readonly #waiting = new Map<number, Waiting>();
  /** Documents whose writes were lost with a thread that died: forgotten before anything else. */
  #lost = new Set<string>();
  #closed = false;
  /** After the thread dies, requests are refused until then (a file that cannot open would otherwise start a thread per request). */
  #retryAt = 0;
  #backoffMs = FIRST_BACKOFF_MS;

  /** `data`: the index's SQLite file (`{ backend: 'sqlite', file }`) or its PostgreSQL database (`{ backend: 'postgres', url }`). */
  constructor(data: SearchWorkerData, logger: Logger) {
    this.#data = data;
    this.#logger = logger;
    this.#ensureWorker();
  }

  /** Applies `ops` in one transaction, after every request sent before; rejects if it failed (its documents are then forgotten). */
  async write(ops: readonly SearchOp[]): Promise<void> {
    if (ops.length === 0) return;
    const docNames = [...new Set(ops.flatMap((op) => ('docName' in op ? [op.docName] : [])))];
    await this.#request({ kind: 'write', ops: [...ops] }, docNames);
  }

  /** A document loaded at `stateVector`: null if the index holds it as it is, else the ids indexed from it. */
  async check(docName: string, stateVector: Uint8Array): Promise<string[] | null> {
    return (await this.#request({ kind: 'check', docName, stateVector })).ids ?? null;
  }

  /** Which of `docNames` the index has never held whole. */
  async unindexed(docNames: readonly string[]): Promise<string[]> {
    return (await this.#request({ kind: 'unindexed', docNames: [...docNames] })).docNames ?? [];
  }

  async search(query: SearchQuery): Promise<SearchHit[]> {
    return (await this.#request({ kind: 'search', query: { ...query, terms: [...query.terms], roomIds: [...query.roomIds] } })).hits ?? [];
  }

  /** Resolves once every write sent so far is applied (or failed). */
  async settled(): Promise<void> {
    await this.#request({ kind: 'write', ops: [] });
  }

  /** Lets every write sent so far finish, closes the file and stops the thread. */
  async close(): Promise<void> {
    if (this.#closed) return;
    if (this.#worker) {
      try {
        await this.#request({ kind: 'close' });
      } catch (err) {
        this.#logger.error({ err }, 'search: closing the index file failed');
      }
    }
    this.#closed = true;
    await this.#worker?.terminate();
    this.#worker = null;
    this.#failAll(new Error('the search worker closed'));
  }

  #request(ask: SearchWorkerAsk, docNames?: readonly string[]): Promise<Answer> {
    if (this.#closed) return Promise.reject(new Error('the search worker is closed'));
    if (!this.#worker && Date.now() < this.#retryAt) {
      for (const docName of docNames ?? []) this.#lost.add(docName);
      return Promise.reject(new Error('the search index is unavailable (its thread stopped; retried shortly)'));
    }
    const worker = this.#ensureWorker();
    if (this.#lost.size > 0) {
      const lost = [...this.#lost];
      this.#lost = new Set();
      const ops: SearchOp[] = lost.map((docName) => ({ op: 'forget', docName }));
      this.#post(worker, { kind: 'write', ops }, { resolve: () => {}, reject: () => {}, docNames: lost });
    }
    return new Promise((resolve, reject) => this.#post(worker, ask, { resolve, reject, ...(docNames ? { docNames } : {}) }));
  }

  #post(worker: Worker, ask: SearchWorkerAsk, waiting: Waiting): void {
    const id = this.#nextId++;
    this.#waiting.set(id, waiting);
    worker.postMessage({ id, ...ask });
  }

  #ensureWorker(): Worker {
    if (this.#worker) return this.#worker;
    const worker = startWorker(import.meta.url, 'searchWorkerEntry', this.#data);
    worker.unref();
    worker.on('message', (raw: unknown) => {
      const reply = SearchWorkerReplySchema.safeParse(raw);
      if (!reply.success) return this.#logger.error({ raw }, 'search: malformed search worker reply');
      const waiter = this.#waiting.get(reply.data.id);
      this.#waiting.delete(reply.data.id);
      this.#backoffMs = FIRST_BACKOFF_MS;
      if (reply.data.ok) waiter?.resolve(reply.data);
      else waiter?.reject(new Error(reply.data.error));
    });
    const died = (err: Error): void => {
      if (this.#worker !== worker) return;
      this.#worker = null;
      if (this.#closed) return;
      this.#logger.error({ err, retryInMs: this.#backoffMs }, 'search: the search worker stopped; documents it was writing are indexed whole at their next load');
      this.#retryAt = Date.now() + this.#backoffMs;
      this.#backoffMs = Math.min(this.#backoffMs * 2, MAX_BACKOFF_MS);
      for (const waiter of this.#waiting.values()) for (const docName of waiter.docNames ?? []) this.#lost.add(docName);
      this.#failAll(err);
    };
    worker.on('error', died);
    worker.on('exit', (code) => died(new Error(`the search worker exited (code ${code})`)));
    this.#worker = worker;
    return worker;
  }

  #failAll(error: Error): void {
    const waiting = [...this.#waiting.values()];
    this.#waiting.clear();
    for (const waiter of waiting) waiter.reject(error);
  }
}
