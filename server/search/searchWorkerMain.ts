import { parentPort, workerData } from 'node:worker_threads';
import type pg from 'pg';
import { sameStateVector } from '../../shared/yjs/sameStateVector.ts';
import type { AsyncApi } from '../storage/AsyncApi.ts';
import { openPostgres } from '../storage/pg/openPostgres.ts';
import { openSearchDatabase } from './openSearchDatabase.ts';
import { PgSearchRepo } from './PgSearchRepo.ts';
import { SearchRepo } from './SearchRepo.ts';
import {
  type SearchOp,
  type SearchWorkerData,
  SearchWorkerDataSchema,
  type SearchWorkerReply,
  type SearchWorkerRequest,
  SearchWorkerRequestSchema,
} from './searchWorkerProtocol.ts';

/** The index as the thread uses it, on either backend: every method may return a promise. */
interface SearchIndex {
  /** Applies the changes in one transaction, in order. */
  write(ops: readonly SearchOp[]): Promise<void> | void;
  /** Forgets the documents' states, in one transaction. */
  forget(docNames: ReadonlySet<string>): Promise<void> | void;
  readonly repo: Omit<AsyncApi<SearchRepo>, 'transaction'> | Omit<SearchRepo, 'transaction'>;
  close(): Promise<void> | void;
}

/** One change applied through `repo` (SQLite's returns nothing, PostgreSQL's a promise). */
function apply(repo: Omit<AsyncApi<SearchRepo>, 'transaction'> | SearchRepo, op: SearchOp): Promise<void> | void {
  if (op.op === 'put') return repo.put(op.docName, op.entry);
  if (op.op === 'remove') return repo.remove(op.docName, op.messageId);
  if (op.op === 'drop') return repo.drop(op.messageId);
  if (op.op === 'record') return repo.recordIndexed(op.docName, op.stateVector);
  return repo.forgetIndexed(op.docName);
}

/**
 * SQLite: the index's own file, each write one synchronous transaction; a file that cannot open
 * throws here, at the thread's start, and the thread dies (SearchWorker starts it again later).
 * PostgreSQL: a pool of one (it connects at the first query), each write one transaction.
 */
function openIndex(data: SearchWorkerData): SearchIndex | Promise<SearchIndex> {
  if (data.backend === 'sqlite') {
    const db = openSearchDatabase(data.file);
    const repo = new SearchRepo(db);
    return {
      repo,
      write: (ops) => repo.transaction(() => ops.forEach((op) => void apply(repo, op))),
      forget: (docNames) => repo.transaction(() => docNames.forEach((name) => repo.forgetIndexed(name))),
      close: () => void db.close(),
    };
  }
  // Migrations are the main thread's: the thread's pool only reads and writes rows.
  return openPostgres(data.url, { maxConnections: 1, migrate: false, ...(data.queryTimeoutMs === undefined ? {} : { queryTimeoutMs: data.queryTimeoutMs }) }).then((pool) => pgIndex(pool, new PgSearchRepo(pool)));
}

function pgIndex(pool: pg.Pool, repo: PgSearchRepo): SearchIndex {
  return {
    repo,
    write: (ops) =>
      repo.transaction(async (tx) => {
        for (const op of ops) await apply(tx, op);
      }),
    forget: (docNames) =>
      repo.transaction(async (tx) => {
        for (const name of docNames) await tx.forgetIndexed(name);
      }),
    close: () => pool.end(),
  };
}

/**
 * A write that failed (a full disk, the database gone) lost its rows: each document it named is
 * no longer recorded as indexed whole, so it is indexed whole when it next loads.
 */
async function forgetAfterFailure(index: SearchIndex, ops: readonly SearchOp[]): Promise<void> {
  try {
    await index.forget(new Set(ops.flatMap((op) => ('docName' in op ? [op.docName] : []))));
  } catch {
    // The index is failing: the write's own error is reported.
  }
}

async function answer(index: SearchIndex, request: SearchWorkerRequest): Promise<SearchWorkerReply> {
  const { id } = request;
  const { repo } = index;
  switch (request.kind) {
    case 'write':
      try {
        await index.write(request.ops);
      } catch (err) {
        await forgetAfterFailure(index, request.ops);
        throw err;
      }
      return { id, ok: true };
    case 'check': {
      const recorded = await repo.indexedState(request.docName);
      return { id, ok: true, ids: recorded !== null && sameStateVector(recorded, request.stateVector) ? null : await repo.idsOf(request.docName) };
    }
    case 'unindexed': {
      const unindexed: string[] = [];
      for (const name of request.docNames) if ((await repo.indexedState(name)) === null) unindexed.push(name);
      return { id, ok: true, docNames: unindexed };
    }
    case 'search':
      return { id, ok: true, hits: await repo.search(request.query) };
    case 'close':
      await index.close();
      return { id, ok: true };
  }
}

/**
 * The search worker thread (started through searchWorkerEntry.ts, driven by SearchWorker.ts): on
 * SQLite the only connection that writes the search index's file, and the one that searches it;
 * on PostgreSQL this node's connection to the shared index. Requests are answered one at a time,
 * in order (each waits for the one before), so a search sees every write sent before it.
 */
const port = parentPort;
if (port) {
  const opening = Promise.resolve(openIndex(SearchWorkerDataSchema.parse(workerData)));
  // One request at a time, in order. An index that never opened is no reason to answer: the
  // rejection goes unhandled and ends the thread, as a file that cannot open does above.
  let tail: Promise<unknown> = opening;
  port.on('message', (raw: unknown) => {
    const parsed = SearchWorkerRequestSchema.safeParse(raw);
    if (!parsed.success) {
      const id = typeof raw === 'object' && raw !== null && 'id' in raw && typeof raw.id === 'number' ? raw.id : -1;
      port.postMessage({ id, ok: false, error: `malformed search worker request: ${parsed.error.message}` } satisfies SearchWorkerReply);
      return;
    }
    const request = parsed.data;
    tail = tail.then(async () => {
      const index = await opening;
      try {
        port.postMessage(await answer(index, request));
      } catch (err) {
        port.postMessage({ id: request.id, ok: false, error: err instanceof Error ? err.message : String(err) } satisfies SearchWorkerReply);
      }
    });
  });
}
