import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { openDatabase, type Db } from './openDatabase.ts';
import { SqliteUpdateStore } from './SqliteUpdateStore.ts';
import { MemoryUpdateStore } from './MemoryUpdateStore.ts';
import type { UpdateStore } from './UpdateStore.ts';
import { makeTempDir } from '../../test/support/tempDir.ts';

interface Harness {
  store: UpdateStore;
  /** Closes and reopens the same storage, as a restart would (memory: the same instance). */
  reopen(): UpdateStore;
  dispose(): void;
}

const implementations: Array<[string, () => Harness]> = [
  [
    'SqliteUpdateStore',
    () => {
      const tmp = makeTempDir();
      const file = path.join(tmp.dir, 'parley.db');
      let db: Db = openDatabase(file);
      const h: Harness = {
        store: new SqliteUpdateStore(db),
        reopen() {
          db.close();
          db = openDatabase(file);
          h.store = new SqliteUpdateStore(db);
          return h.store;
        },
        dispose() {
          db.close();
          tmp.remove();
        },
      };
      return h;
    },
  ],
  [
    'MemoryUpdateStore',
    () => {
      const store = new MemoryUpdateStore();
      return { store, reopen: () => store, dispose: () => store.close() };
    },
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

describe.each(implementations)('UpdateStore contract: %s', (_name, make) => {
  let h: Harness;
  afterEach(() => h?.dispose());

  it('loads an unknown room as empty', () => {
    h = make();
    expect(h.store.load('room-x')).toEqual({ snapshot: null, updates: [], lastSeq: 0, clientOwners: [] });
    expect(h.store.stats('room-x')).toEqual({ updates: 0, bytes: 0, snapshotBytes: 0 });
  });

  it('appends in order, keeps rooms apart and survives a reopen', () => {
    h = make();
    const a = new Y.Doc();
    const b = new Y.Doc();
    const ua1 = textUpdate(a, 'm1', 'hello');
    const ub1 = textUpdate(b, 'n1', 'other room');
    const ua2 = textUpdate(a, 'm2', 'world');
    h.store.append([
      { roomId: 'A', update: ua1 },
      { roomId: 'B', update: ub1 },
      { roomId: 'A', update: ua2 },
    ]);
    // Sequence numbers follow append order across rooms.
    expect(h.store.load('A').lastSeq).toBeGreaterThan(h.store.load('B').lastSeq);
    const lastSeqA = h.store.load('A').lastSeq;
    const store = h.reopen();
    const loaded = store.load('A');
    expect(loaded.updates.map((u) => Buffer.from(u))).toEqual([Buffer.from(ua1), Buffer.from(ua2)]);
    expect(loaded.lastSeq).toBe(lastSeqA);
    expect(rebuild(loaded).getMap('messages').toJSON()).toEqual({ m1: 'hello', m2: 'world' });
    expect(rebuild(store.load('B')).getMap('messages').toJSON()).toEqual({ n1: 'other room' });
    expect(store.stats('A')).toEqual({ updates: 2, bytes: ua1.byteLength + ua2.byteLength, snapshotBytes: 0 });
  });

  it('stores client-id bindings with the updates, per room, first binding wins, and survives a reopen', () => {
    h = make();
    const doc = new Y.Doc();
    h.store.append([{ roomId: 'A', update: textUpdate(doc, 'm1', 'one') }], [
      { roomId: 'A', clientId: 7, userId: 'ana' },
      { roomId: 'B', clientId: 7, userId: 'ben' },
    ]);
    h.store.append([], [{ roomId: 'A', clientId: 7, userId: 'mallory' }, { roomId: 'A', clientId: 8, userId: 'ana' }]);
    const store = h.reopen();
    const owners = (room: string) => [...store.load(room).clientOwners].sort((x, y) => x[0] - y[0]);
    expect(owners('A')).toEqual([
      [7, 'ana'],
      [8, 'ana'],
    ]);
    expect(owners('B')).toEqual([[7, 'ben']]);
  });

  it('compaction replaces covered updates and keeps later ones', () => {
    h = make();
    const doc = new Y.Doc();
    const u1 = textUpdate(doc, 'm1', 'one');
    const u2 = textUpdate(doc, 'm2', 'two');
    h.store.append([{ roomId: 'A', update: u1 }, { roomId: 'A', update: u2 }]);
    const seq2 = h.store.load('A').lastSeq;
    const snapshot = Y.encodeStateAsUpdate(doc);
    // An update that arrives while the snapshot is being built must survive the compaction.
    const u3 = textUpdate(doc, 'm3', 'three');
    h.store.append([{ roomId: 'A', update: u3 }]);
    h.store.compact('A', snapshot, seq2);
    const store = h.reopen();
    const loaded = store.load('A');
    expect(loaded.snapshot).not.toBeNull();
    expect(loaded.updates).toHaveLength(1);
    expect(rebuild(loaded).getMap('messages').toJSON()).toEqual({ m1: 'one', m2: 'two', m3: 'three' });
    expect(store.stats('A').updates).toBe(1);
    expect(store.stats('A').snapshotBytes).toBe(snapshot.byteLength);
  });

  it('ignores a compaction older than the current snapshot', () => {
    h = make();
    const doc = new Y.Doc();
    h.store.append([{ roomId: 'A', update: textUpdate(doc, 'm1', 'one') }]);
    const seq1 = h.store.load('A').lastSeq;
    const old = Y.encodeStateAsUpdate(doc);
    h.store.append([{ roomId: 'A', update: textUpdate(doc, 'm2', 'two') }]);
    const seq2 = h.store.load('A').lastSeq;
    h.store.compact('A', Y.encodeStateAsUpdate(doc), seq2);
    h.store.compact('A', old, seq1);
    expect(rebuild(h.store.load('A')).getMap('messages').toJSON()).toEqual({ m1: 'one', m2: 'two' });
  });
});
