import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as Y from 'yjs';
import { createLogger } from '../log.ts';
import { openDatabase, type Db } from './openDatabase.ts';
import { SqliteUpdateStore } from './SqliteUpdateStore.ts';
import { StorageWorker } from './StorageWorker.ts';
import { makeTempDir } from '../../test/support/tempDir.ts';

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
    worker = new StorageWorker(file, 'NORMAL', createLogger('silent'), 60_000);
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
