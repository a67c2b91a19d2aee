import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, test, vi } from 'vitest';
import * as Y from 'yjs';
import { createLogger } from '../log.ts';
import { openDatabase, type Db } from './openDatabase.ts';
import { SqliteUpdateStore } from './SqliteUpdateStore.ts';
import { StorageWorker } from './StorageWorker.ts';
import { makeTempDir } from '../../test/support/tempDir.ts';
import { postgresSuiteName, postgresTestsRun, startPostgres, type ThrowawayPostgres } from '../../test/support/postgres.ts';
import { openPostgres } from './pg/openPostgres.ts';
import { PgUpdateStore } from './pg/PgUpdateStore.ts';
import { docOfStored } from './docOfStored.ts';

/*
 * The storage worker thread costs a second V8 isolate (about 30 MiB): it runs only while there
 * is work for it, starting on the first request and stopping once idle, and starts again on the
 * next request.
 */
describe('StorageWorker', () => {
  let db: Db;
  let worker: StorageWorker;
  let remove: () => void;
  afterEach(async () => {
    vi.useRealTimers();
    await worker.close();
    db.close();
    remove();
  });

  it('starts on the first request, stops after its idle time, and starts again for the next request', async () => {
    const tmp = makeTempDir();
    remove = tmp.remove;
    const file = path.join(tmp.dir, 'w.db');
    db = openDatabase(file);
    const doc = new Y.Doc();
    doc.getMap('m').set('k', 'v');
    new SqliteUpdateStore(db).append([{ roomId: 'r', update: Y.encodeStateAsUpdate(doc) }]);

    // Only the idle timer is faked; the thread and its messages are real.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    worker = new StorageWorker({ backend: 'sqlite', dbFile: file, synchronous: 'NORMAL' }, createLogger('silent'), 60_000);
    expect(worker.running).toBe(false);
    const first = await worker.request({ kind: 'merge', roomId: 'r' });
    expect(first).toMatchObject({ ok: true });
    expect(worker.running).toBe(true);

    vi.advanceTimersByTime(59_999);
    expect(worker.running).toBe(true);
    vi.advanceTimersByTime(1);
    expect(worker.running).toBe(false);

    const second = await worker.request({ kind: 'merge', roomId: 'r' });
    expect(second).toMatchObject({ ok: true });
    expect(worker.running).toBe(true);
  });
});

describe(postgresSuiteName('StorageWorker on PostgreSQL'), () => {
  const pgIt = postgresTestsRun() ? test : test.skip;
  let postgres: ThrowawayPostgres | undefined;
  beforeAll(async () => {
    if (postgresTestsRun()) postgres = await startPostgres();
  }, 60_000);
  afterAll(() => postgres?.stop());

  pgIt('reads a room from PostgreSQL on its own pool: merged, and cut into reply frames, answered in order', async () => {
    if (!postgres) throw new Error('PostgreSQL did not start');
    const url = await postgres.createDatabase();
    const pool = await openPostgres(url);
    const worker = new StorageWorker({ backend: 'postgres', url }, createLogger('silent'));
    try {
      const doc = new Y.Doc();
      const store = new PgUpdateStore(pool);
      let previous = Y.encodeStateVector(doc);
      for (let i = 0; i < 20; i++) {
        doc.getArray<string>('a').push([`item ${i}`]);
        await store.append([{ roomId: 'room', update: Y.encodeStateAsUpdate(doc, previous) }]);
        previous = Y.encodeStateVector(doc);
      }
      // Two requests at once: each answered, for its own room.
      const [merged, served] = await Promise.all([worker.request({ kind: 'merge', roomId: 'room' }), worker.request({ kind: 'servedState', roomId: 'room', chunkBytes: 1024 })]);
      expect(merged).toMatchObject({ ok: true, roomId: 'room', updatesMerged: 20 });
      expect(docOfStored({ snapshot: merged['snapshot'] as Uint8Array, updates: [], lastSeq: 0, clientOwners: [] }).getArray('a').toArray()).toEqual(doc.getArray('a').toArray());
      expect(served).toMatchObject({ ok: true, stateVector: Y.encodeStateVector(doc) });
      expect((served['frames'] as Uint8Array[]).length).toBeGreaterThan(0);
      expect(await worker.request({ kind: 'merge', roomId: 'nobody' })).toMatchObject({ ok: true, snapshot: null });
    } finally {
      await worker.close();
      await pool.end();
    }
  });
});
