import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { openDatabase, type Db } from './openDatabase.ts';
import { SqliteUpdateStore } from './SqliteUpdateStore.ts';
import { MemoryUpdateStore } from './MemoryUpdateStore.ts';
import { compactRoom } from './compactRoom.ts';
import { WorkerCompactor, steppedSqliteWrite } from './WorkerCompactor.ts';
import { StorageWorker } from './StorageWorker.ts';
import { InlineCompactor } from './InlineCompactor.ts';
import type { CompactionOutcome, Compactor } from './Compactor.ts';
import type { UpdateStore } from './UpdateStore.ts';
import { createLogger } from '../log.ts';
import { createMessage, deleteMessage } from '../../shared/roomDoc/messageOps.ts';
import { listMessages } from '../../shared/roomDoc/queries.ts';
import { makeTempDir } from '../../test/support/tempDir.ts';

const ana = { userId: '11111111-1111-4111-8111-111111111111', role: 'member' as const };
const SECRET_TEXT = 'the launch code is 0000';

/** Logs every update of `doc` into the store under `roomId`, one append per update, as the server does. */
function logInto(store: UpdateStore, roomId: string, doc: Y.Doc): void {
  doc.on('update', (update: Uint8Array) => store.append([{ roomId, update }]));
}

function reload(store: UpdateStore, roomId: string): Y.Doc {
  const stored = store.load(roomId);
  const doc = new Y.Doc();
  if (stored.snapshot) Y.applyUpdate(doc, stored.snapshot);
  for (const u of stored.updates) Y.applyUpdate(doc, u);
  return doc;
}

const contents = (doc: Y.Doc) => listMessages(doc, { limit: 100_000 }).messages.map((m) => m.content);

describe.each([
  ['MemoryUpdateStore', () => ({ store: new MemoryUpdateStore() as UpdateStore, dispose: () => {} })],
  [
    'SqliteUpdateStore',
    () => {
      const tmp = makeTempDir();
      const db = openDatabase(path.join(tmp.dir, 'p.db'));
      return { store: new SqliteUpdateStore(db) as UpdateStore, dispose: () => (db.close(), tmp.remove()) };
    },
  ],
])('compactRoom on %s', (_name, make) => {
  let env: { store: UpdateStore; dispose: () => void };
  afterEach(() => env.dispose());

  it('merges the log into a snapshot that holds every message, and drops deleted text', () => {
    env = make();
    const doc = new Y.Doc();
    logInto(env.store, 'r', doc);
    const ids = Array.from({ length: 30 }, (_, i) => {
      const r = createMessage(doc, ana, { content: i === 7 ? SECRET_TEXT : `m${i}` });
      if (!r.ok) throw new Error(r.message);
      return r.id;
    });
    expect(deleteMessage(doc, ana, { id: ids[7] ?? '' }).ok).toBe(true);
    const before = env.store.load('r');
    expect(before.updates.some((u) => Buffer.from(u).includes(SECRET_TEXT))).toBe(true);

    const result = compactRoom(env.store, 'r');
    expect(result).toMatchObject({ roomId: 'r', updatesMerged: 31, upToSeq: before.lastSeq });
    expect(result.bytesAfter).toBeLessThan(result.bytesBefore);
    const after = env.store.load('r');
    expect(after.updates).toHaveLength(0);
    expect(Buffer.from(after.snapshot ?? new Uint8Array()).includes(SECRET_TEXT)).toBe(false);
    expect(contents(reload(env.store, 'r'))).toEqual(contents(doc));
    expect(compactRoom(env.store, 'r').updatesMerged).toBe(0);
  });
});

describe.each([
  [
    'WorkerCompactor',
    (file: string, store: SqliteUpdateStore): Compactor => {
      const worker = new StorageWorker({ backend: 'sqlite', dbFile: file, synchronous: 'NORMAL' }, createLogger('silent'));
      const compactor = new WorkerCompactor(worker, steppedSqliteWrite(store), createLogger('silent'));
      // The worker is the compactor's owner's to close: here, the test's.
      return { request: (r) => compactor.request(r), onCompacted: (l) => compactor.onCompacted(l), close: async () => (await compactor.close(), await worker.close()) };
    },
  ],
  ['InlineCompactor', (_file: string, store: SqliteUpdateStore): Compactor => new InlineCompactor(store, createLogger('silent'))],
])('%s', (_name, makeCompactor) => {
  let db: Db;
  let compactor: Compactor;
  let remove: () => void;
  afterEach(async () => {
    await compactor.close();
    db.close();
    remove();
  });

  it.each([
    ['a small room', 200, 10],
    // Over SNAPSHOT_CHUNK_BYTES: the SQLite store writes its snapshot in chunks, one transaction each.
    ['a room whose snapshot is written in chunks', 3000, 400],
  ])('compacts %s in the background while updates keep arriving, losing none', async (_name, seeded, padding) => {
    const tmp = makeTempDir();
    remove = tmp.remove;
    const file = path.join(tmp.dir, 'p.db');
    db = openDatabase(file);
    const store = new SqliteUpdateStore(db);
    compactor = makeCompactor(file, store);
    const doc = new Y.Doc();
    logInto(store, 'r', doc);
    for (let i = 0; i < seeded; i++) createMessage(doc, ana, { content: `before ${i} `.padEnd(padding, 'x') });

    const outcomes: CompactionOutcome[] = [];
    const firstDone = new Promise<void>((resolve) => compactor.onCompacted((o) => (outcomes.push(o), resolve())));
    compactor.request('r');
    compactor.request('r');
    // Appends racing the compaction, one per event-loop turn until it finishes: whatever it did
    // not read stays in the log.
    let racing = true;
    let during = 0;
    const race = (async () => {
      while (racing && during < 2000) {
        createMessage(doc, ana, { content: `during ${during++}` });
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    await firstDone;
    racing = false;
    await race;
    expect(outcomes[0], JSON.stringify(outcomes[0])).toMatchObject({ ok: true, roomId: 'r' });
    expect(during).toBeGreaterThan(0);
    expect(contents(reload(store, 'r'))).toEqual(contents(doc));
    expect(contents(doc)).toHaveLength(seeded + during);
  });
});
