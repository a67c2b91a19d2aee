import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import * as Y from 'yjs';
import { openDatabase, type Db } from './openDatabase.ts';
import { SqliteUpdateStore } from './SqliteUpdateStore.ts';
import { MemoryUpdateStore } from './MemoryUpdateStore.ts';
import type { AsyncUpdateStore, UpdateStore } from './UpdateStore.ts';
import { openPostgres } from './pg/openPostgres.ts';
import { PgUpdateStore } from './pg/PgUpdateStore.ts';
import { makeTempDir } from '../../test/support/tempDir.ts';
import { postgresSuiteName, postgresTestsRun, startPostgres, type ThrowawayPostgres } from '../../test/support/postgres.ts';

/** The synchronous stores (SQLite, memory) and the asynchronous one (PostgreSQL): every call is awaited. */
type AnyUpdateStore = UpdateStore | AsyncUpdateStore;

interface Harness {
  store: AnyUpdateStore;
  /** Closes and reopens the same storage, as a restart would (memory: the same instance). */
  reopen(): Promise<AnyUpdateStore>;
  dispose(): Promise<void>;
}

/** One PostgreSQL server for the file, a fresh database for each test. */
let postgres: ThrowawayPostgres | undefined;
beforeAll(async () => {
  if (postgresTestsRun()) postgres = await startPostgres();
}, 60_000);
afterAll(() => postgres?.stop());

const implementations: Array<[string, () => Promise<Harness>, boolean]> = [
  [
    'SqliteUpdateStore',
    async () => {
      const tmp = makeTempDir();
      const file = path.join(tmp.dir, 'parley.db');
      let db: Db = openDatabase(file);
      const h: Harness = {
        store: new SqliteUpdateStore(db),
        async reopen() {
          db.close();
          db = openDatabase(file);
          h.store = new SqliteUpdateStore(db);
          return h.store;
        },
        async dispose() {
          db.close();
          tmp.remove();
        },
      };
      return h;
    },
    true,
  ],
  [
    'MemoryUpdateStore',
    async () => {
      const store = new MemoryUpdateStore();
      return { store, reopen: async () => store, dispose: async () => store.close() };
    },
    true,
  ],
  [
    postgresSuiteName('PgUpdateStore'),
    async () => {
      if (!postgres) throw new Error('PostgreSQL did not start');
      const url = await postgres.createDatabase();
      let pool = await openPostgres(url);
      const h: Harness = {
        store: new PgUpdateStore(pool),
        async reopen() {
          await pool.end();
          pool = await openPostgres(url);
          h.store = new PgUpdateStore(pool);
          return h.store;
        },
        dispose: () => pool.end(),
      };
      return h;
    },
    postgresTestsRun(),
  ],
];

/** A Y.Doc update that adds one message; returns the update. */
function textUpdate(doc: Y.Doc, key: string, value: string): Uint8Array {
  let captured: Uint8Array | null = null;
  const onUpdate = (u: Uint8Array) => (captured = u);
  doc.on('update', onUpdate);
  doc.getMap<string>('messages').set(key, value);
  doc.off('update', onUpdate);
  if (!captured) throw new Error('no update emitted');
  return captured;
}

function rebuild(stored: { snapshot: Uint8Array | null; updates: Uint8Array[] }): Y.Doc {
  const doc = new Y.Doc();
  if (stored.snapshot) Y.applyUpdate(doc, stored.snapshot);
  for (const u of stored.updates) Y.applyUpdate(doc, u);
  return doc;
}

describe.each(implementations)('UpdateStore contract: %s', (_name, make, runs) => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.dispose();
    h = undefined;
  });
  const it = runs ? test : test.skip;

  it('loads an unknown room as empty', async () => {
    const { store } = (h = await make());
    expect(await store.load('room-x')).toEqual({ snapshot: null, updates: [], lastSeq: 0, clientOwners: [] });
    expect(await store.stats('room-x')).toEqual({ updates: 0, bytes: 0, snapshotBytes: 0 });
  });

  it('appends in order, keeps rooms apart and survives a reopen', async () => {
    h = await make();
    const a = new Y.Doc();
    const b = new Y.Doc();
    const ua1 = textUpdate(a, 'm1', 'hello');
    const ub1 = textUpdate(b, 'n1', 'other room');
    const ua2 = textUpdate(a, 'm2', 'world');
    await h.store.append([
      { roomId: 'A', update: ua1 },
      { roomId: 'B', update: ub1 },
      { roomId: 'A', update: ua2 },
    ]);
    // Sequence numbers follow append order across rooms.
    const lastSeqA = (await h.store.load('A')).lastSeq;
    expect(lastSeqA).toBeGreaterThan((await h.store.load('B')).lastSeq);
    const store = await h.reopen();
    const loaded = await store.load('A');
    expect(loaded.updates.map((u) => Buffer.from(u))).toEqual([Buffer.from(ua1), Buffer.from(ua2)]);
    expect(loaded.lastSeq).toBe(lastSeqA);
    expect(rebuild(loaded).getMap('messages').toJSON()).toEqual({ m1: 'hello', m2: 'world' });
    expect(rebuild(await store.load('B')).getMap('messages').toJSON()).toEqual({ n1: 'other room' });
    expect(await store.stats('A')).toEqual({ updates: 2, bytes: ua1.byteLength + ua2.byteLength, snapshotBytes: 0 });
  });

  it('stores client-id bindings with the updates, per room, first binding wins, and survives a reopen', async () => {
    h = await make();
    const doc = new Y.Doc();
    await h.store.append([{ roomId: 'A', update: textUpdate(doc, 'm1', 'one') }], [
      { roomId: 'A', clientId: 7, userId: 'ana' },
      { roomId: 'B', clientId: 7, userId: 'ben' },
    ]);
    await h.store.append([], [{ roomId: 'A', clientId: 7, userId: 'mallory' }, { roomId: 'A', clientId: 8, userId: 'ana' }]);
    const store = await h.reopen();
    const owners = async (room: string) => [...(await store.load(room)).clientOwners].sort((x, y) => x[0] - y[0]);
    expect(await owners('A')).toEqual([
      [7, 'ana'],
      [8, 'ana'],
    ]);
    expect(await owners('B')).toEqual([[7, 'ben']]);
  });

  it('compaction replaces covered updates and keeps later ones', async () => {
    h = await make();
    const doc = new Y.Doc();
    const u1 = textUpdate(doc, 'm1', 'one');
    const u2 = textUpdate(doc, 'm2', 'two');
    await h.store.append([{ roomId: 'A', update: u1 }, { roomId: 'A', update: u2 }]);
    const seq2 = (await h.store.load('A')).lastSeq;
    const snapshot = Y.encodeStateAsUpdate(doc);
    // An update that arrives while the snapshot is being built must survive the compaction.
    const u3 = textUpdate(doc, 'm3', 'three');
    await h.store.append([{ roomId: 'A', update: u3 }]);
    await h.store.compact('A', snapshot, seq2);
    const store = await h.reopen();
    const loaded = await store.load('A');
    expect(loaded.snapshot).not.toBeNull();
    expect(loaded.updates).toHaveLength(1);
    expect(rebuild(loaded).getMap('messages').toJSON()).toEqual({ m1: 'one', m2: 'two', m3: 'three' });
    expect((await store.stats('A')).updates).toBe(1);
    expect((await store.stats('A')).snapshotBytes).toBe(snapshot.byteLength);
  });

  it('ignores a compaction older than the current snapshot', async () => {
    h = await make();
    const doc = new Y.Doc();
    await h.store.append([{ roomId: 'A', update: textUpdate(doc, 'm1', 'one') }]);
    const seq1 = (await h.store.load('A')).lastSeq;
    const old = Y.encodeStateAsUpdate(doc);
    await h.store.append([{ roomId: 'A', update: textUpdate(doc, 'm2', 'two') }]);
    const seq2 = (await h.store.load('A')).lastSeq;
    await h.store.compact('A', Y.encodeStateAsUpdate(doc), seq2);
    await h.store.compact('A', old, seq1);
    expect(rebuild(await h.store.load('A')).getMap('messages').toJSON()).toEqual({ m1: 'one', m2: 'two' });
  });
});
