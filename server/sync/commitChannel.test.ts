import diagnosticsChannel from 'node:diagnostics_channel';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { openDatabase, type Db } from '../storage/openDatabase.ts';
import { SqliteUpdateStore } from '../storage/SqliteUpdateStore.ts';
import { COMMIT_CHANNEL, CommitQueue, type CommitParticipant, type CommitTiming } from './CommitQueue.ts';

/*
 * The group commit's timing on `parley:commit` (what the benchmarks' probe records): one message
 * per commit, after the SQLite transaction, saying how long it took and whether it held.
 */

let dir: string;
let db: Db;
const seen: CommitTiming[] = [];
const listener = (message: unknown): void => void seen.push(message as CommitTiming);
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-commit-channel-'));
  db = openDatabase(path.join(dir, 'parley.db'), { synchronous: 'FULL' });
  seen.length = 0;
  diagnosticsChannel.subscribe(COMMIT_CHANNEL, listener);
});
afterEach(() => {
  diagnosticsChannel.unsubscribe(COMMIT_CHANNEL, listener);
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function participant(roomId: string, updates: Uint8Array[], outcome: { committed: number; failed: unknown[] }): CommitParticipant {
  return {
    roomId,
    takePending: () => ({ updates: updates.splice(0), bindings: [] }),
    committed: () => void outcome.committed++,
    commitFailed: (error) => void outcome.failed.push(error),
  };
}

it('publishes each group commit once, with its time and the updates it wrote', () => {
  const store = new SqliteUpdateStore(db);
  const queue = new CommitQueue(store);
  const outcome = { committed: 0, failed: [] as unknown[] };
  queue.schedule(participant('room-a', [new Uint8Array([0, 0]), new Uint8Array([0, 0])], outcome));
  queue.schedule(participant('room-b', [new Uint8Array([0, 0])], outcome));
  queue.flush();
  expect(outcome.committed).toBe(2);
  expect(seen).toHaveLength(1);
  expect(seen[0]).toMatchObject({ updates: 3, ok: true });
  // The publisher itself, so a subscriber can keep the commits of its own server (server/metrics).
  expect(seen[0]?.queue).toBe(queue);
  expect(seen[0]?.ms).toBeGreaterThan(0);
  expect(store.load('room-a').updates).toHaveLength(2);
});

it('publishes a failed commit as not ok', () => {
  const store = new SqliteUpdateStore(db);
  const queue = new CommitQueue(store);
  const outcome = { committed: 0, failed: [] as unknown[] };
  db.close(); // every write now throws: the commit fails
  queue.schedule(participant('room-a', [new Uint8Array([0, 0])], outcome));
  queue.flush();
  db = openDatabase(path.join(dir, 'parley.db'));
  expect(outcome.failed).toHaveLength(1);
  expect(seen).toEqual([expect.objectContaining({ updates: 1, ok: false })]);
});
