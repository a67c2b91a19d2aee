import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import * as Y from 'yjs';
import { openDatabase } from '../../server/storage/openDatabase.ts';
import { SqliteUpdateStore } from '../../server/storage/SqliteUpdateStore.ts';
import { WorkerCompactor, steppedSqliteWrite } from '../../server/storage/WorkerCompactor.ts';
import { StorageWorker } from '../../server/storage/StorageWorker.ts';
import { createLogger } from '../../server/log.ts';
import { uuidv4 } from '../../shared/ids.ts';
import { createMessage } from '../../shared/roomDoc/messageOps.ts';
import { roomMaps } from '../../shared/roomDoc/layout.ts';

/*
 * Does compacting a big room stall the sync path? A room of N messages (default 100,000, about
 * 26 MB) is compacted three times by the real WorkerCompactor while the main thread commits a
 * small room's update every 2 ms through the same SQLite file, as the group commit does. Every
 * commit's duration is measured: better-sqlite3 waits for SQLite's write lock synchronously, so
 * a long write by the worker shows up here as a long commit on the event loop.
 * Usage: npx tsx bench/probes/compactStall.ts [N]   (prints one JSON line, and writes it to bench/results/)
 */

const N = Number(process.argv[2] ?? 100_000);
const dir = mkdtempSync(path.join(tmpdir(), 'parley-compact-stall-'));
const file = path.join(dir, 'parley.db');
const db = openDatabase(file);
const store = new SqliteUpdateStore(db);
const big = uuidv4();
const small = uuidv4();
const actor = { userId: uuidv4(), role: 'member' as const };

const bigDoc = new Y.Doc();
roomMaps(bigDoc);
for (let i = 0; i < N; i++) createMessage(bigDoc, actor, { content: `message ${i} `.padEnd(80, 'x') });
store.append([{ roomId: big, update: Y.encodeStateAsUpdate(bigDoc) }]);
const ROUNDS = 3;
/** Log entries after the snapshot for each round, so that there is something to compact; made up front. */
const logs = Array.from({ length: ROUNDS }, (_, round) =>
  Array.from({ length: 600 }, (_, i) => {
    const before = Y.encodeStateVector(bigDoc);
    createMessage(bigDoc, actor, { content: `round ${round} late ${i}` });
    return Y.encodeStateAsUpdate(bigDoc, before);
  }),
);
/** Appends a round's log, 50 entries per event-loop turn (as commits of a busy room would come). */
const appendLog = async (round: number): Promise<void> => {
  const entries = logs[round]!;
  for (let i = 0; i < entries.length; i += 50) {
    store.append(entries.slice(i, i + 50).map((update) => ({ roomId: big, update })));
    await new Promise((resolve) => setImmediate(resolve));
  }
};
await appendLog(0);

const worker = new StorageWorker({ backend: 'sqlite', dbFile: file, synchronous: 'NORMAL' }, createLogger('silent'));
const compactor = new WorkerCompactor(worker, steppedSqliteWrite(store), createLogger('silent'));
let rounds = 0;
const finished = new Promise<void>((resolve) =>
  compactor.onCompacted((outcome) => {
    if (!outcome.ok) throw new Error(outcome.error);
    if (++rounds >= ROUNDS) return resolve();
    void appendLog(rounds).then(() => compactor.request(big));
  }),
);

const smallDoc = new Y.Doc();
roomMaps(smallDoc);
const commits: number[] = [];
const delay = monitorEventLoopDelay({ resolution: 1 });
delay.enable();
compactor.request(big);
let done = false;
void finished.then(() => (done = true));
const started = performance.now();
while (!done && performance.now() - started < 120_000) {
  const before = Y.encodeStateVector(smallDoc);
  createMessage(smallDoc, actor, { content: 'tick' });
  const t0 = performance.now();
  store.append([{ roomId: small, update: Y.encodeStateAsUpdate(smallDoc, before) }]);
  commits.push(performance.now() - t0);
  await new Promise((resolve) => setTimeout(resolve, 2));
}
delay.disable();
commits.sort((a, b) => a - b);
const at = (q: number): number => Number(commits[Math.min(commits.length - 1, Math.floor(q * commits.length))]!.toFixed(2));
const result = {
  probe: 'compactStall',
  messages: N,
  snapshotBytes: store.stats(big).snapshotBytes,
  compactions: rounds,
  commits: commits.length,
  commitP50Ms: at(0.5),
  commitP99Ms: at(0.99),
  commitMaxMs: Number(commits.at(-1)!.toFixed(2)),
  eventLoopDelayMaxMs: Number((delay.max / 1e6).toFixed(1)),
};
console.log(JSON.stringify(result));
const out = path.resolve(import.meta.dirname, '..', 'results');
mkdirSync(out, { recursive: true });
writeFileSync(path.join(out, `compactStall-${new Date().toISOString().replace(/[:.]/g, '')}.json`), JSON.stringify(result, null, 2) + '\n');
await compactor.close();
await worker.close();
db.close();
rmSync(dir, { recursive: true, force: true });
