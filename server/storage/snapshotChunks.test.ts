import { describe, expect, it } from 'vitest';
import { SNAPSHOT_CHUNK_BYTES } from './SqliteUpdateStore.ts';
import { useTempUpdateStore } from '../../test/support/tempUpdateStore.ts';

/*
 * Large snapshots are written in chunks, one short transaction each, so the compaction worker
 * never holds SQLite's write lock for long. What a crash at any point leaves must load as the
 * old snapshot or the new one, never a mix, and leave no garbage for long.
 */

const temp = useTempUpdateStore();

/** Distinct bytes of `size`, so a chunk out of order or missing cannot go unnoticed. */
const bytes = (size: number, seed: number): Uint8Array => Uint8Array.from({ length: size }, (_, i) => (i * 31 + seed) % 251);
const chunkRows = (): Array<{ generation: number; n: number }> =>
  temp.db.prepare<[], { generation: number; n: number }>('SELECT generation, count(*) AS n FROM room_snapshot_chunks GROUP BY generation ORDER BY generation').all();
const logOf = (n: number): void => temp.store.append(Array.from({ length: n }, (_, i) => ({ roomId: 'r', update: bytes(10, i) })));

describe('chunked snapshots', () => {
  it('writes a snapshot over the chunk size in chunks and loads it back byte for byte', () => {
    logOf(3);
    const snapshot = bytes(2 * SNAPSHOT_CHUNK_BYTES + 123, 7);
    temp.store.compact('r', snapshot, temp.store.load('r').lastSeq);
    expect(chunkRows()).toEqual([{ generation: 1, n: 3 }]);
    const loaded = temp.store.load('r');
    expect(loaded.updates).toEqual([]);
    expect(Buffer.from(loaded.snapshot!).equals(Buffer.from(snapshot))).toBe(true);
    expect(temp.store.stats('r').snapshotBytes).toBe(snapshot.byteLength);
  });

  it('keeps the old snapshot when a compaction died while staging, and the next one clears what it left', () => {
    logOf(2);
    const first = bytes(SNAPSHOT_CHUNK_BYTES + 1, 1);
    temp.store.compact('r', first, temp.store.load('r').lastSeq);
    // What a compaction killed between its chunk transactions leaves: chunks of a newer generation.
    temp.db.prepare('INSERT INTO room_snapshot_chunks (room_id, generation, idx, data) VALUES (?, 2, 0, ?)').run('r', Buffer.from(bytes(100, 9)));
    expect(Buffer.from(temp.store.load('r').snapshot!).equals(Buffer.from(first))).toBe(true);

    logOf(2);
    const second = bytes(3 * SNAPSHOT_CHUNK_BYTES, 2);
    temp.store.compact('r', second, temp.store.load('r').lastSeq);
    // The stale generation is cleared first, so its number is free again.
    expect(chunkRows()).toEqual([{ generation: 2, n: 3 }]);
    expect(Buffer.from(temp.store.load('r').snapshot!).equals(Buffer.from(second))).toBe(true);
  });

  it('drops a late compaction of an older state without leaving chunks, and a small snapshot replaces a chunked one inline', () => {
    logOf(2);
    const upTo = temp.store.load('r').lastSeq;
    temp.store.compact('r', bytes(SNAPSHOT_CHUNK_BYTES + 5, 3), upTo);
    temp.store.compact('r', bytes(2 * SNAPSHOT_CHUNK_BYTES, 4), upTo);
    expect(chunkRows()).toEqual([{ generation: 1, n: 2 }]);

    logOf(1);
    const small = bytes(1000, 5);
    temp.store.compact('r', small, temp.store.load('r').lastSeq);
    expect(chunkRows()).toEqual([]);
    expect(Buffer.from(temp.store.load('r').snapshot!).equals(Buffer.from(small))).toBe(true);
    expect(temp.store.stats('r').snapshotBytes).toBe(1000);
  });
});
