import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from './openDatabase.ts';
import { SNAPSHOT_CHUNK_BYTES, SqliteUpdateStore } from './SqliteUpdateStore.ts';
import { makeTempDir } from '../../test/support/tempDir.ts';

/*
 * Large snapshots are written in chunks, one short transaction each, so the compaction worker
 * never holds SQLite's write lock for long. What a crash at any point leaves must load as the
 * old snapshot or the new one, never a mix, and leave no garbage for long.
 */

let db: Db;
let store: SqliteUpdateStore;
let remove: () => void;
beforeEach(() => {
  const tmp = makeTempDir();
  remove = tmp.remove;
  db = openDatabase(path.join(tmp.dir, 'p.db'));
  store = new SqliteUpdateStore(db);
});
afterEach(() => {
  db.close();
  remove();
});

/** Distinct bytes of `size`, so a chunk out of order or missing cannot go unnoticed. */
const bytes = (size: number, seed: number): Uint8Array => Uint8Array.from({ length: size }, (_, i) => (i * 31 + seed) % 251);
const chunkRows = (): Array<{ generation: number; n: number }> =>
  db.prepare<[], { generation: number; n: number }>('SELECT generation, count(*) AS n FROM room_snapshot_chunks GROUP BY generation ORDER BY generation').all();
const logOf = (n: number): void => store.append(Array.from({ length: n }, (_, i) => ({ roomId: 'r', update: bytes(10, i) })));

describe('chunked snapshots', () => {
  it('writes a snapshot over the chunk size in chunks and loads it back byte for byte', () => {
    logOf(3);
    const snapshot = bytes(2 * SNAPSHOT_CHUNK_BYTES + 123, 7);
    store.compact('r', snapshot, store.load('r').lastSeq);
    expect(chunkRows()).toEqual([{ generation: 1, n: 3 }]);
    const loaded = store.load('r');
    expect(loaded.updates).toEqual([]);
    expect(Buffer.from(loaded.snapshot!).equals(Buffer.from(snapshot))).toBe(true);
    expect(store.stats('r').snapshotBytes).toBe(snapshot.byteLength);
  });

  it('keeps the old snapshot when a compaction died while staging, and the next one clears what it left', () => {
    logOf(2);
    const first = bytes(SNAPSHOT_CHUNK_BYTES + 1, 1);
    store.compact('r', first, store.load('r').lastSeq);
    // What a compaction killed between its chunk transactions leaves: chunks of a newer generation.
    db.prepare('INSERT INTO room_snapshot_chunks (room_id, generation, idx, data) VALUES (?, 2, 0, ?)').run('r', Buffer.from(bytes(100, 9)));
    expect(Buffer.from(store.load('r').snapshot!).equals(Buffer.from(first))).toBe(true);

    logOf(2);
    const second = bytes(3 * SNAPSHOT_CHUNK_BYTES, 2);
    store.compact('r', second, store.load('r').lastSeq);
    // The stale generation is cleared first, so its number is free again.
    expect(chunkRows()).toEqual([{ generation: 2, n: 3 }]);
    expect(Buffer.from(store.load('r').snapshot!).equals(Buffer.from(second))).toBe(true);
  });

  it('drops a late compaction of an older state without leaving chunks, and a small snapshot replaces a chunked one inline', () => {
    logOf(2);
    const upTo = store.load('r').lastSeq;
    store.compact('r', bytes(SNAPSHOT_CHUNK_BYTES + 5, 3), upTo);
    store.compact('r', bytes(2 * SNAPSHOT_CHUNK_BYTES, 4), upTo);
    expect(chunkRows()).toEqual([{ generation: 1, n: 2 }]);

    logOf(1);
    const small = bytes(1000, 5);
    store.compact('r', small, store.load('r').lastSeq);
    expect(chunkRows()).toEqual([]);
    expect(Buffer.from(store.load('r').snapshot!).equals(Buffer.from(small))).toBe(true);
    expect(store.stats('r').snapshotBytes).toBe(1000);
  });
});
