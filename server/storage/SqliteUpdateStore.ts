import type { Db } from './openDatabase.ts';
import type { AppendEntry, ClientBinding, RoomLogStats, StoredRoom, UpdateStore } from './UpdateStore.ts';

const asBytes = (buf: Buffer): Uint8Array => new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
const asBuffer = (bytes: Uint8Array): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

type SnapshotRow = { data: Buffer; up_to_seq: number };
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
  readonly #appendTx;
  readonly #compactTx;

  constructor(db: Db) {
    this.#db = db;
    this.#getSnapshot = db.prepare<[string], SnapshotRow>('SELECT data, up_to_seq FROM room_snapshots WHERE room_id = ?');
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
    this.#upsertSnapshot = db.prepare<[string, Buffer, number, number]>(
      `INSERT INTO room_snapshots (room_id, data, up_to_seq, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT(room_id) DO UPDATE SET data = excluded.data, up_to_seq = excluded.up_to_seq, updated_at = excluded.updated_at`,
    );
    this.#deleteUpTo = db.prepare<[string, number]>('DELETE FROM room_updates WHERE room_id = ? AND seq <= ?');
    this.#stats = db.prepare<[string, number], { n: number; bytes: number | null }>(
      'SELECT count(*) AS n, sum(length(data)) AS bytes FROM room_updates WHERE room_id = ? AND seq > ?',
    );
    this.#snapshotSize = db.prepare<[string], { bytes: number; up_to_seq: number }>(
      'SELECT length(data) AS bytes, up_to_seq FROM room_snapshots WHERE room_id = ?',
    );

    this.#appendTx = db.transaction((entries: readonly AppendEntry[], bindings: readonly ClientBinding[]) => {
      for (const { roomId, update } of entries) this.#insertUpdate.run(roomId, asBuffer(update));
      for (const { roomId, clientId, userId } of bindings) this.#insertBinding.run(roomId, clientId, userId);
    });
    this.#compactTx = db.transaction((roomId: string, snapshot: Uint8Array, upToSeq: number) => {
      const current = this.#getSnapshot.get(roomId);
      // A snapshot never goes back in time: a late compaction of an older state is dropped.
      if (current && current.up_to_seq >= upToSeq) return;
      this.#upsertSnapshot.run(roomId, asBuffer(snapshot), upToSeq, Date.now());
      this.#deleteUpTo.run(roomId, upToSeq);
    });
  }

  load(roomId: string): StoredRoom {
    return this.#db.transaction(() => {
      const snap = this.#getSnapshot.get(roomId);
      const after = snap?.up_to_seq ?? 0;
      const rows = this.#getUpdates.all(roomId, after);
      const lastRow = rows[rows.length - 1];
      return {
        snapshot: snap ? asBytes(snap.data) : null,
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

  compact(roomId: string, snapshot: Uint8Array, upToSeq: number): void {
    this.#compactTx.immediate(roomId, snapshot, upToSeq);
  }

  stats(roomId: string): RoomLogStats {
    const snap = this.#snapshotSize.get(roomId);
    const row = this.#stats.get(roomId, snap?.up_to_seq ?? 0);
    return { updates: row?.n ?? 0, bytes: row?.bytes ?? 0, snapshotBytes: snap?.bytes ?? 0 };
  }

  /** The database belongs to whoever opened it; closing the store releases nothing of its own. */
  close(): void {}
}
