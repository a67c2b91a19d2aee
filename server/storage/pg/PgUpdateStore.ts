import type pg from 'pg';
import { parseDocName, roomOfDoc } from '../../../shared/roomDoc/segments.ts';
import { FencedOutError } from '../FencedOutError.ts';
import { MissingUploadsError } from '../MissingUploadsError.ts';
import { attachmentIdsIn } from '../attachmentIdsIn.ts';
import type { AppendEntry, AsyncUpdateStore, ClientBinding, Fences, RoomLogStats, StoredRoom } from '../UpdateStore.ts';
import { inTransaction } from './openPostgres.ts';

const asBytes = (buf: Buffer): Uint8Array => new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
const asBuffer = (bytes: Uint8Array): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/**
 * The update log, snapshots and client-id bindings in PostgreSQL (tables room_updates,
 * room_snapshots, client_ids; docs/scale-out.md), for nodes that share one database. The same
 * contract as SqliteUpdateStore, asynchronous. Snapshots are one BYTEA row: the SQLite store
 * writes big ones in chunks so that no step holds the event loop, which a query on a pool never
 * does, and a segment is bounded (docs/protocol.md, "Large rooms: segments").
 *
 * BIGINT columns arrive as numbers (openPostgres sets the pool's parser; sequence numbers and
 * tokens stay far below 2^53).
 *
 * Fencing is per room, since one node owns a room's head and segments together (the server
 * writes across them: moving messages into segments, thread summaries into the head):
 * `takeFence` gives a node a new token for a room (the one before it is void from then on);
 * `append` and `compact` with `fences` lock the fence row of each room their documents belong to
 * and refuse the whole write (FencedOutError, nothing stored) unless every token is still
 * current. A node takes the fence before it loads, so whatever a deposed owner committed before
 * the takeover is in what the new owner loads, and nothing it tries after is stored.
 *
 * `append` also marks every upload its updates' messages name (`attachments.named_at`, the
 * database's clock) and refuses the write (MissingUploadsError) when a record is gone: garbage
 * collection's `DELETE` and a commit naming the upload take the same row's lock, so either the
 * deletion comes first and the commit is refused, or the deletion sees the mark and keeps the
 * upload (PgAttachmentRepo.deleteIfUnheld; docs/scale-out.md, "Attachment garbage collection").
 */
export class PgUpdateStore implements AsyncUpdateStore {
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  /** A snapshot, then the log after it, read in one snapshot of the database (REPEATABLE READ). */
  load(docName: string): Promise<StoredRoom> {
    return inTransaction(
      this.#pool,
      async (client) => {
        const snap = await client.query<{ data: Buffer; up_to_seq: number }>('SELECT data, up_to_seq FROM room_snapshots WHERE room_id = $1', [docName]);
        const after = snap.rows[0]?.up_to_seq ?? 0;
        const updates = await client.query<{ seq: number; data: Buffer }>('SELECT seq, data FROM room_updates WHERE room_id = $1 AND seq > $2 ORDER BY seq', [docName, after]);
        const owners = await client.query<{ client_id: number; user_id: string }>('SELECT client_id, user_id FROM client_ids WHERE room_id = $1', [docName]);
        const last = updates.rows[updates.rows.length - 1];
        const snapshot = snap.rows[0];
        return {
          snapshot: snapshot ? asBytes(snapshot.data) : null,
          updates: updates.rows.map((row) => asBytes(row.data)),
          lastSeq: last ? last.seq : after,
          clientOwners: owners.rows.map((row): [number, string] => [row.client_id, row.user_id]),
        };
      },
      'ISOLATION LEVEL REPEATABLE READ READ ONLY',
    );
  }

  /** Every entry in order and every binding (first one wins) in one transaction, after the fence check. */
  async append(entries: readonly AppendEntry[], bindings: readonly ClientBinding[] = [], fences?: Fences): Promise<void> {
    if (entries.length === 0 && bindings.length === 0) return;
    await inTransaction(this.#pool, async (client) => {
      if (fences) await checkFences(client, [...entries.map((e) => e.roomId), ...bindings.map((b) => b.roomId)], fences);
      await markNamedUploads(client, entries);
      if (entries.length > 0) {
        await client.query(
          `INSERT INTO room_updates (room_id, data)
           SELECT room_id, data FROM unnest($1::text[], $2::bytea[]) WITH ORDINALITY AS t(room_id, data, i) ORDER BY i`,
          [entries.map((e) => e.roomId), entries.map((e) => asBuffer(e.update))],
        );
      }
      if (bindings.length > 0) {
        // A client id is bound once: a later binding of the same id (to anyone) is ignored, never moved.
        await client.query(
          `INSERT INTO client_ids (room_id, client_id, user_id)
           SELECT * FROM unnest($1::text[], $2::int8[], $3::text[]) ON CONFLICT DO NOTHING`,
          [bindings.map((b) => b.roomId), bindings.map((b) => b.clientId), bindings.map((b) => b.userId)],
        );
      }
    });
  }

  /**
   * Makes `snapshot` the document's and deletes the log entries it covers, in one transaction. A
   * snapshot never goes back in time: one older than the current is dropped.
   */
  async compact(docName: string, snapshot: Uint8Array, upToSeq: number, fences?: Fences): Promise<void> {
    await inTransaction(this.#pool, async (client) => {
      if (fences) await checkFences(client, [docName], fences);
      const switched = await client.query(
        `INSERT INTO room_snapshots (room_id, data, up_to_seq, updated_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (room_id) DO UPDATE SET data = excluded.data, up_to_seq = excluded.up_to_seq, updated_at = excluded.updated_at
         WHERE room_snapshots.up_to_seq < excluded.up_to_seq`,
        [docName, asBuffer(snapshot), upToSeq, Date.now()],
      );
      if (switched.rowCount === 1) await client.query('DELETE FROM room_updates WHERE room_id = $1 AND seq <= $2', [docName, upToSeq]);
    });
  }

  async stats(docName: string): Promise<RoomLogStats> {
    const { rows } = await this.#pool.query<{ n: number; bytes: number | null; snapshot_bytes: number | null }>(
      `SELECT count(*) AS n, sum(length(data)) AS bytes, (SELECT length(data) FROM room_snapshots WHERE room_id = $1) AS snapshot_bytes
       FROM room_updates WHERE room_id = $1 AND seq > COALESCE((SELECT up_to_seq FROM room_snapshots WHERE room_id = $1), 0)`,
      [docName],
    );
    const row = rows[0];
    return { updates: row?.n ?? 0, bytes: row?.bytes ?? 0, snapshotBytes: row?.snapshot_bytes ?? 0 };
  }

  /** The stored documents of one room: its own and its segments (`roomId:n`), in name order. */
  async docNamesOf(roomId: string): Promise<string[]> {
    const { rows } = await this.#pool.query<{ room_id: string }>(
      `SELECT room_id FROM room_snapshots WHERE room_id = $1 OR (room_id >= $2 AND room_id < $3)
       UNION SELECT DISTINCT room_id FROM room_updates WHERE room_id = $1 OR (room_id >= $2 AND room_id < $3)
       ORDER BY room_id`,
      [roomId, `${roomId}:`, `${roomId};`],
    );
    return rows.map((row) => row.room_id).filter((name) => parseDocName(name)?.roomId === roomId);
  }

  /**
   * A new fencing token for the room `roomId`: larger than every token given for it before, and
   * from now on the only one writes to its documents are accepted with. Taken by a node that
   * becomes the room's owner, before it loads any of its documents.
   */
  async takeFence(roomId: string): Promise<number> {
    const { rows } = await this.#pool.query<{ fence: number }>(
      `INSERT INTO room_fences (room_id, fence) VALUES ($1, 1)
       ON CONFLICT (room_id) DO UPDATE SET fence = room_fences.fence + 1 RETURNING fence`,
      [roomId],
    );
    const fence = rows[0]?.fence;
    if (fence === undefined) throw new Error(`no fence returned for room ${roomId}`);
    return fence;
  }

  /** The pool belongs to whoever opened it. */
  async close(): Promise<void> {}
}

/**
 * Locks the fence row of the room of every document in `docNames` (FOR SHARE: a takeover waits
 * for this transaction, and this one sees a takeover that committed first) and throws
 * FencedOutError unless each holds the token in `fences`.
 */
async function checkFences(client: pg.PoolClient, docNames: readonly string[], fences: Fences): Promise<void> {
  const rooms = [...new Set(docNames.map(roomOfDoc))].sort();
  const { rows } = await client.query<{ room_id: string; fence: number }>('SELECT room_id, fence FROM room_fences WHERE room_id = ANY($1::text[]) ORDER BY room_id FOR SHARE', [rooms]);
  const current = new Map(rows.map((row) => [row.room_id, row.fence]));
  const lost = rooms.filter((room) => fences.get(room) === undefined || current.get(room) !== fences.get(room));
  if (lost.length > 0) throw new FencedOutError(lost);
}

/**
 * Marks the uploads the entries' messages name as named now (row locks until the commit) and
 * throws MissingUploadsError when a record is gone. Most updates name none and are not decoded.
 */
async function markNamedUploads(client: pg.PoolClient, entries: readonly AppendEntry[]): Promise<void> {
  const namedBy = new Map<string, Set<string>>();
  for (const { roomId, update } of entries) {
    for (const id of attachmentIdsIn(update)) {
      const docs = namedBy.get(id) ?? new Set<string>();
      docs.add(roomId);
      namedBy.set(id, docs);
    }
  }
  if (namedBy.size === 0) return;
  const ids = [...namedBy.keys()].sort();
  const { rows } = await client.query<{ id: string }>(
    `UPDATE attachments SET named_at = (extract(epoch FROM clock_timestamp()) * 1000)::bigint WHERE id = ANY($1::text[]) RETURNING id`,
    [ids],
  );
  const found = new Set(rows.map((row) => row.id));
  const missing = ids.filter((id) => !found.has(id));
  if (missing.length === 0) return;
  throw new MissingUploadsError([...new Set(missing.flatMap((id) => [...(namedBy.get(id) ?? [])]))].sort(), missing);
}
