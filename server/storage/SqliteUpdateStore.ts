import type { Db } from './openDatabase.ts';
import { parseDocName } from '../../shared/roomDoc/segments.ts';
import type { AppendEntry, ClientBinding, RoomLogStats, StoredRoom, UpdateStore } from './UpdateStore.ts';

const asBytes = (buf: Buffer): Uint8Array => new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
const asBuffer = (bytes: Uint8Array): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

type SnapshotRow = { data: Buffer; up_to_seq: number; generation: number | null };

/**
 * Snapshots larger than this are written in chunks of this size, one short transaction each, one
 * per event-loop turn (WorkerCompactor): the longest a compaction holds the event loop or
 * SQLite's write lock is one chunk's write, whatever the room's size, instead of the whole
 * snapshot's (up to 430 ms for a
 * 26 MB room, measured with bench/probes/compactStall.ts).
 */
export const SNAPSHOT_CHUNK_BYTES = 256 * 1024;
/** Stale chunks deleted per transaction (freeing a chunk's pages costs like writing them). */
const CHUNKS_DELETED_PER_TX = 4;
/** Log entries a snapshot covers, deleted per transaction (most are a few hundred bytes). */
const LOG_ROWS_DELETED_PER_TX = 64;

/** The bytes of chunks in order, as one array. */
function concat(parts: readonly Buffer[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, p) => sum + p.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}
type UpdateRow = { seq: number; data: Buffer };

/** UpdateStore in the server's SQLite file (tables room_updates and room_snapshots). */
export class SqliteUpdateStore implements UpdateStore {
  readonly #db: Db;
  readonly #getSnapshot;
  readonly #getUpdates;
  readonly #insertUpdate;
  readonly #insertBinding;
  readonly #getBindings;
  readonly #upsertSnapshot;
  readonly #deleteUpTo;
  readonly #stats;
  readonly #snapshotSize;
  readonly #getChunks;
  readonly #chunkBytes;
  readonly #maxGeneration;
  readonly #insertChunk;
  readonly #deleteStaleChunks;
  readonly #appendTx;
  readonly #compactTx;
  readonly #docNamesOf;

  constructor(db: Db) {
    this.#db = db;
    this.#getSnapshot = db.prepare<[string], SnapshotRow>('SELECT data, up_to_seq, generation FROM room_snapshots WHERE room_id = ?');
    this.#getChunks = db.prepare<[string, number], { data: Buffer }>('SELECT data FROM room_snapshot_chunks WHERE room_id = ? AND generation = ? ORDER BY idx');
    this.#chunkBytes = db.prepare<[string, number], { bytes: number | null }>(
      'SELECT sum(length(data)) AS bytes FROM room_snapshot_chunks WHERE room_id = ? AND generation = ?',
    );
    this.#maxGeneration = db.prepare<[string], { generation: number | null }>('SELECT max(generation) AS generation FROM room_snapshot_chunks WHERE room_id = ?');
    this.#insertChunk = db.prepare<[string, number, number, Buffer]>('INSERT INTO room_snapshot_chunks (room_id, generation, idx, data) VALUES (?, ?, ?, ?)');
    this.#deleteStaleChunks = db.prepare<[string, number | null, number]>(
      `DELETE FROM room_snapshot_chunks WHERE rowid IN
         (SELECT rowid FROM room_snapshot_chunks WHERE room_id = ? AND generation IS NOT ? LIMIT ?)`,
    );
    this.#getUpdates = db.prepare<[string, number], UpdateRow>(
      'SELECT seq, data FROM room_updates WHERE room_id = ? AND seq > ? ORDER BY seq',
    );
    this.#insertUpdate = db.prepare<[string, Buffer]>('INSERT INTO room_updates (room_id, data) VALUES (?, ?)');
    // A client id is bound once: a later binding of the same id (to anyone) is ignored, never moved.
    this.#insertBinding = db.prepare<[string, number, string]>(
      'INSERT INTO client_ids (room_id, client_id, user_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
    );
    this.#getBindings = db.prepare<[string], { client_id: number; user_id: string }>(
      'SELECT client_id, user_id FROM client_ids WHERE room_id = ?',
    );
    this.#upsertSnapshot = db.prepare<[string, Buffer, number | null, number, number]>(
      `INSERT INTO room_snapshots (room_id, data, generation, up_to_seq, updated_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT(room_id) DO UPDATE SET data = excluded.data, generation = excluded.generation, up_to_seq = excluded.up_to_seq, updated_at = excluded.updated_at`,
    );
    this.#deleteUpTo = db.prepare<[string, number, number]>(
      `DELETE FROM room_updates WHERE seq IN
         (SELECT seq FROM room_updates WHERE room_id = ? AND seq <= ? ORDER BY seq LIMIT ?)`,
    );
    this.#stats = db.prepare<[string, number], { n: number; bytes: number | null }>(
      'SELECT count(*) AS n, sum(length(data)) AS bytes FROM room_updates WHERE room_id = ? AND seq > ?',
    );
    this.#snapshotSize = db.prepare<[string], { bytes: number; up_to_seq: number; generation: number | null }>(
      'SELECT length(data) AS bytes, up_to_seq, generation FROM room_snapshots WHERE room_id = ?',
    );

    this.#docNamesOf = db.prepare<{ room: string; from: string; to: string }, { room_id: string }>(
      `SELECT room_id FROM room_snapshots WHERE room_id = @room OR (room_id >= @from AND room_id < @to)
       UNION SELECT room_id FROM room_updates WHERE room_id = @room OR (room_id >= @from AND room_id < @to)
       ORDER BY room_id`,
    );

    this.#appendTx = db.transaction((entries: readonly AppendEntry[], bindings: readonly ClientBinding[]) => {
      for (const { roomId, update } of entries) this.#insertUpdate.run(roomId, asBuffer(update));
      for (const { roomId, clientId, userId } of bindings) this.#insertBinding.run(roomId, clientId, userId);
    });
    // Makes a snapshot (inline data, or a staged chunk generation) the room's. A snapshot never
    // goes back in time: a late compaction of an older state is dropped (false). The log entries
    // it covers are ignored from then on (load and stats read past up_to_seq) and deleted after,
    // in steps.
    this.#compactTx = db.transaction((roomId: string, inline: Uint8Array | null, generation: number | null, upToSeq: number): boolean => {
      const current = this.#getSnapshot.get(roomId);
      if (current && current.up_to_seq >= upToSeq) return false;
      this.#upsertSnapshot.run(roomId, asBuffer(inline ?? new Uint8Array(0)), generation, upToSeq, Date.now());
      return true;
    });
  }

  load(roomId: string): StoredRoom {
    return this.#db.transaction(() => {
      const snap = this.#getSnapshot.get(roomId);
      const after = snap?.up_to_seq ?? 0;
      const rows = this.#getUpdates.all(roomId, after);
      const lastRow = rows[rows.length - 1];
      return {
        snapshot: !snap ? null : snap.generation === null ? asBytes(snap.data) : concat(this.#getChunks.all(roomId, snap.generation).map((c) => c.data)),
        updates: rows.map((r) => asBytes(r.data)),
        lastSeq: lastRow ? lastRow.seq : after,
        clientOwners: this.#getBindings.all(roomId).map((b): [number, string] => [b.client_id, b.user_id]),
      };
    })();
  }

  append(entries: readonly AppendEntry[], bindings: readonly ClientBinding[] = []): void {
    if (entries.length === 0 && bindings.length === 0) return;
    // IMMEDIATE takes the write lock up front, so a writer in another connection (the compaction
    // worker) makes this wait (busy_timeout) instead of failing with SQLITE_BUSY on lock upgrade.
    this.#appendTx.immediate(entries, bindings);
  }

  /**
   * Replaces the room's snapshot and drops the log entries it covers (all at once: see
   * compactionSteps for the same work in short steps).
   */
  compact(roomId: string, snapshot: Uint8Array, upToSeq: number): void {
    for (const step of this.compactionSteps(roomId, snapshot, upToSeq)) void step;
  }

  /**
   * compact() as a sequence of short transactions, one per iteration, for a caller that spreads
   * them over event-loop turns (WorkerCompactor, on the main thread's connection): no step
   * writes more than one chunk, so none holds the event loop or SQLite's write lock for long,
   * whatever the room's size. A small snapshot is written inline in one transaction; a large one
   * is staged chunk by chunk under a new generation, which one last short transaction makes the
   * room's. A crash in between leaves the old snapshot in force and stale chunks behind, which
   * the next compaction of the room deletes (as it deletes the generation it replaced), a few
   * chunks per step. One compaction per room at a time.
   */
  *compactionSteps(roomId: string, snapshot: Uint8Array, upToSeq: number): Generator<void, void, void> {
    const current = this.#getSnapshot.get(roomId);
    if (current && current.up_to_seq >= upToSeq) return;
    // What an earlier compaction interrupted by a crash left behind.
    yield* this.#dropChunksExcept(roomId, current?.generation ?? null);
    if (current) yield* this.#dropLogUpTo(roomId, current.up_to_seq);
    let generation: number | null = null;
    if (snapshot.byteLength > SNAPSHOT_CHUNK_BYTES) {
      generation = (this.#maxGeneration.get(roomId)?.generation ?? current?.generation ?? 0) + 1;
      for (let idx = 0, offset = 0; offset < snapshot.byteLength; idx++, offset += SNAPSHOT_CHUNK_BYTES) {
        this.#insertChunk.run(roomId, generation, idx, asBuffer(snapshot.subarray(offset, offset + SNAPSHOT_CHUNK_BYTES)));
        yield;
      }
    }
    const switched = this.#compactTx.immediate(roomId, generation === null ? snapshot : null, generation, upToSeq);
    yield;
    // The generation in force now (a late compaction of an older state kept the current one).
    const inForce = this.#getSnapshot.get(roomId);
    const keep = switched ? generation : (inForce?.generation ?? null);
    yield* this.#dropChunksExcept(roomId, keep);
    if (inForce) yield* this.#dropLogUpTo(roomId, inForce.up_to_seq);
  }

  /** Deletes the log entries a snapshot covers (seq <= upToSeq), a few per step. */
  *#dropLogUpTo(roomId: string, upToSeq: number): Generator<void, void, void> {
    while (this.#deleteUpTo.run(roomId, upToSeq, LOG_ROWS_DELETED_PER_TX).changes > 0) yield;
  }

  /** Deletes the room's chunks of every generation but `keep`, a few per step. */
  *#dropChunksExcept(roomId: string, keep: number | null): Generator<void, void, void> {
    while (this.#deleteStaleChunks.run(roomId, keep, CHUNKS_DELETED_PER_TX).changes > 0) yield;
  }

  stats(roomId: string): RoomLogStats {
    const snap = this.#snapshotSize.get(roomId);
    const row = this.#stats.get(roomId, snap?.up_to_seq ?? 0);
    const snapshotBytes = !snap ? 0 : snap.generation === null ? snap.bytes : (this.#chunkBytes.get(roomId, snap.generation)?.bytes ?? 0);
    return { updates: row?.n ?? 0, bytes: row?.bytes ?? 0, snapshotBytes };
  }

  /** Every document stored (a snapshot, logged updates or both), in name order: tools that walk all rooms (parley reindex). */
  docNames(): string[] {
    const rows = this.#db.prepare<[], { room_id: string }>('SELECT room_id FROM room_snapshots UNION SELECT room_id FROM room_updates ORDER BY room_id').all();
    return rows.map((row) => row.room_id);
  }

  /**
   * The stored documents of one room: its own (`roomId`) and its segments (`roomId:n`), in name
   * order. Segment names are the range from `roomId:` up to `roomId;` (';' follows ':'), so no
   * other room's name that merely starts with this one matches, and the primary keys answer it.
   */
  docNamesOf(roomId: string): string[] {
    const rows = this.#docNamesOf.all({ room: roomId, from: `${roomId}:`, to: `${roomId};` });
    return rows.map((row) => row.room_id).filter((name) => parseDocName(name)?.roomId === roomId);
  }

  /** The database belongs to whoever opened it; closing the store releases nothing of its own. */
  close(): void {}
}
