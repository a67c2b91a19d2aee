import { parentPort, workerData } from 'node:worker_threads';
import { sameStateVector } from '../../shared/yjs/sameStateVector.ts';
import type { Db } from '../storage/openDatabase.ts';
import { openSearchDatabase } from './openSearchDatabase.ts';
import { SearchRepo } from './SearchRepo.ts';
import { type SearchOp, SearchWorkerDataSchema, type SearchWorkerReply, type SearchWorkerRequest, SearchWorkerRequestSchema } from './searchWorkerProtocol.ts';

/** Applies one write's changes in one transaction. */
function write(repo: SearchRepo, ops: readonly SearchOp[]): void {
  repo.transaction(() => {
    for (const op of ops) {
      if (op.op === 'put') repo.put(op.docName, op.entry);
      else if (op.op === 'remove') repo.remove(op.docName, op.messageId);
      else if (op.op === 'drop') repo.drop(op.messageId);
      else if (op.op === 'record') repo.recordIndexed(op.docName, op.stateVector);
      else repo.forgetIndexed(op.docName);
    }
  });
}

/**
 * A write that failed (a full disk) lost its rows: each document it named is no longer recorded as
 * indexed whole, so it is indexed whole when it next loads.
 */
function forgetAfterFailure(repo: SearchRepo, ops: readonly SearchOp[]): void {
  const docNames = new Set(ops.flatMap((op) => ('docName' in op ? [op.docName] : [])));
  try {
    repo.transaction(() => {
      for (const docName of docNames) repo.forgetIndexed(docName);
    });
  } catch {
    // The file is failing: the write's own error is reported.
  }
}

function answer(db: Db, repo: SearchRepo, request: SearchWorkerRequest): SearchWorkerReply {
  const { id } = request;
  switch (request.kind) {
    case 'write':
      try {
        write(repo, request.ops);
      } catch (err) {
        forgetAfterFailure(repo, request.ops);
        throw err;
      }
      return { id, ok: true };
    case 'check': {
      const recorded = repo.indexedState(request.docName);
      return { id, ok: true, ids: recorded !== null && sameStateVector(recorded, request.stateVector) ? null : repo.idsOf(request.docName) };
    }
    case 'unindexed':
      return { id, ok: true, docNames: request.docNames.filter((name) => repo.indexedState(name) === null) };
    case 'search':
      return { id, ok: true, hits: repo.search(request.query) };
    case 'close':
      db.close();
      return { id, ok: true };
  }
}

/**
 * The search worker thread (started through searchWorkerEntry.ts, driven by SearchWorker.ts): the
 * only connection that writes the search index's file, and the one that searches it. Requests are
 * answered one at a time, in order.
 */
const port = parentPort;
if (port) {
  const { file } = SearchWorkerDataSchema.parse(workerData);
  const db = openSearchDatabase(file);
  const repo = new SearchRepo(db);
  port.on('message', (raw: unknown) => {
    const parsed = SearchWorkerRequestSchema.safeParse(raw);
    if (!parsed.success) {
      const id = typeof raw === 'object' && raw !== null && 'id' in raw && typeof raw.id === 'number' ? raw.id : -1;
      port.postMessage({ id, ok: false, error: `malformed search worker request: ${parsed.error.message}` } satisfies SearchWorkerReply);
      return;
    }
    try {
      port.postMessage(answer(db, repo, parsed.data));
    } catch (err) {
      port.postMessage({ id: parsed.data.id, ok: false, error: err instanceof Error ? err.message : String(err) } satisfies SearchWorkerReply);
    }
  });
}
