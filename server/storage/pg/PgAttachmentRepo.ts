import {
  type AttachmentRecord,
  type AttachmentRepo,
  type CollectableAttachment,
  CollectableRowSchema,
  MessageRowSchema,
  SumRowSchema,
  toRecord,
} from '../AttachmentRepo.ts';
import { parseRow, stateVectorOf } from '../sqlRows.ts';
import type { AsyncApi } from '../AsyncApi.ts';
import { params, type Queryable } from './pgRepos.ts';
import { atomically, SERIALIZABLE, sqlLimit, transaction } from './pgTransactions.ts';

/** How long after a commit named an upload garbage collection keeps it, whatever the reference rows say (10 min). */
export const RECENTLY_NAMED_MS = 600_000;

/**
 * The last part of a statement whose CTE `gone` deleted message `message`'s reference rows:
 * releases at `now` each attachment left with no row (SQLite's #drop counts after each deletion).
 * A statement does not see its own deletions, hence "no row of another message": the message held
 * one row per attachment, the one just deleted.
 */
const releaseGone = (message: string, now: string): string =>
  `UPDATE attachments a SET released_at = ${now} FROM gone
   WHERE a.id = gone.attachment_id AND a.referenced_at IS NOT NULL
     AND NOT EXISTS (SELECT 1 FROM attachment_refs r WHERE r.attachment_id = a.id AND r.message_id <> ${message})`;

/**
 * Attachment records, their reference rows and tracked states (`attachments`, `attachment_refs`,
 * `attachment_tracked`) on PostgreSQL: AttachmentRepo's contract (see there), for nodes sharing
 * one database.
 *
 * SQLite runs one writer at a time (BEGIN IMMEDIATE), and the invariants here rest on it: a record
 * is deleted only while no row holds it, while a row is written only for a record that exists; the
 * last row of an upload to go releases it, though two messages holding it may go at once on two
 * nodes; two uploads of one user cannot both squeeze under the quota. So every write that reads
 * what it decides on (`transaction`, `setMessageRefs`, `dropMessageRefs`, `deleteIfUnheld`) runs
 * SERIALIZABLE: PostgreSQL aborts one of two transactions that would interleave otherwise, and it
 * runs again (pgTransactions.ts; `fn` of `transaction` may therefore run more than once). Each is
 * one statement, where SQLite loops over rows. A repository bound to a caller's transaction (a
 * connection) inherits that transaction's isolation level instead: make it SERIALIZABLE too.
 */
export class PgAttachmentRepo implements AsyncApi<AttachmentRepo> {
  readonly #db: Queryable;

  constructor(db: Queryable) {
    this.#db = db;
  }

  async insert(record: AttachmentRecord): Promise<void> {
    await this.#db.query(
      `INSERT INTO attachments (id, room_id, uploader_id, blob_key, name, mime_type, size, width, height, thumbnail_key, thumbnail_type, created_at) VALUES (${params(12)})`,
      [
        record.id,
        record.roomId,
        record.uploaderId,
        record.blobKey,
        record.name,
        record.mimeType,
        record.size,
        record.width,
        record.height,
        record.thumbnailKey,
        record.thumbnailType,
        record.createdAt,
      ],
    );
  }

  async get(id: string): Promise<AttachmentRecord | null> {
    const { rows } = await this.#db.query(
      'SELECT id, room_id, uploader_id, blob_key, name, mime_type, size, width, height, thumbnail_key, thumbnail_type, created_at FROM attachments WHERE id = $1',
      [id],
    );
    return rows[0] === undefined ? null : toRecord(rows[0]);
  }

  /** Bytes of every live upload of the user (the quota counts them). */
  async usageOf(uploaderId: string): Promise<number> {
    // sum(bigint) is numeric, which pg reads as a string.
    const { rows } = await this.#db.query('SELECT coalesce(sum(size), 0)::bigint AS total FROM attachments WHERE uploader_id = $1', [uploaderId]);
    return parseRow(SumRowSchema, rows[0], 'attachments').total;
  }

  /**
   * The message, as seen in document `docName`, holds exactly `attachmentIds` (ids of other rooms'
   * uploads are ignored). Rows it held before and holds no longer are dropped, an attachment left
   * with no row released at `now`; each row written marks its attachment referenced (and no longer
   * released).
   */
  async setMessageRefs(roomId: string, docName: string, messageId: string, attachmentIds: readonly string[], now: number): Promise<void> {
    await atomically(
      this.#db,
      (db) =>
        db.query(
          `WITH gone AS (
             DELETE FROM attachment_refs WHERE message_id = $3 AND attachment_id <> ALL($4::text[]) RETURNING attachment_id
           ), released AS (
             ${releaseGone('$3', '$5::bigint')}
           ), put AS (
             INSERT INTO attachment_refs (attachment_id, message_id, room_id, doc_name)
             SELECT k.id, $3::text, $1::text, $2::text FROM unnest($4::text[]) AS k(id)
             WHERE EXISTS (SELECT 1 FROM attachments WHERE id = k.id AND room_id = $1)
             ON CONFLICT (attachment_id, message_id) DO UPDATE SET room_id = excluded.room_id, doc_name = excluded.doc_name
             RETURNING attachment_id
           )
           UPDATE attachments a SET referenced_at = coalesce(a.referenced_at, $5::bigint), released_at = NULL FROM put WHERE a.id = put.attachment_id`,
          [roomId, docName, messageId, [...new Set(attachmentIds)], now],
        ),
      SERIALIZABLE,
    );
  }

  /**
   * The message no longer holds attachments in document `docName`. With `anyDocument` (it was
   * deleted) every row goes; otherwise only rows that document wrote.
   */
  async dropMessageRefs(docName: string, messageId: string, now: number, anyDocument: boolean): Promise<void> {
    await atomically(
      this.#db,
      (db) =>
        db.query(
          `WITH gone AS (
             DELETE FROM attachment_refs WHERE message_id = $2 AND ($4::boolean OR doc_name = $1) RETURNING attachment_id
           )
           ${releaseGone('$2', '$3::bigint')}`,
          [docName, messageId, now, anyDocument],
        ),
      SERIALIZABLE,
    );
  }

  /** Messages with reference rows written from document `docName`. */
  async messagesOf(docName: string): Promise<string[]> {
    const { rows } = await this.#db.query('SELECT DISTINCT message_id FROM attachment_refs WHERE doc_name = $1', [docName]);
    return rows.map((row) => parseRow(MessageRowSchema, row, 'attachment_refs').message_id);
  }

  async trackedState(docName: string): Promise<Uint8Array | null> {
    const { rows } = await this.#db.query('SELECT state_vector FROM attachment_tracked WHERE doc_name = $1', [docName]);
    return stateVectorOf(rows[0], 'attachment_tracked');
  }

  async recordTracked(docName: string, stateVector: Uint8Array): Promise<void> {
    await this.#db.query('INSERT INTO attachment_tracked (doc_name, state_vector) VALUES ($1, $2) ON CONFLICT (doc_name) DO UPDATE SET state_vector = excluded.state_vector', [
      docName,
      Buffer.from(stateVector),
    ]);
  }

  async forgetTracked(docName: string): Promise<void> {
    await this.#db.query('DELETE FROM attachment_tracked WHERE doc_name = $1', [docName]);
  }

  /**
   * Uploads garbage collection may remove, at most `limit`: released at or before `releasedBefore`,
   * then never referenced and created at or before `createdBefore`; each kind oldest first, in one
   * statement (SQLite's two scan those kinds' indexes in that order).
   */
  async collectable(releasedBefore: number, createdBefore: number, limit: number): Promise<CollectableAttachment[]> {
    const { rows } = await this.#db.query(
      `SELECT id, room_id, blob_key, thumbnail_key FROM (
         (SELECT 1 AS kind, released_at AS at, id, room_id, blob_key, thumbnail_key FROM attachments
          WHERE released_at IS NOT NULL AND released_at <= $1 ORDER BY released_at, id LIMIT $3)
         UNION ALL
         (SELECT 2, created_at, id, room_id, blob_key, thumbnail_key FROM attachments
          WHERE referenced_at IS NULL AND created_at <= $2 ORDER BY created_at, id LIMIT $3)
       ) AS candidates ORDER BY kind, at, id LIMIT $3`,
      [releasedBefore, createdBefore, sqlLimit(limit)],
    );
    return rows.map((row) => {
      const r = parseRow(CollectableRowSchema, row, 'attachments');
      return { id: r.id, roomId: r.room_id, blobKey: r.blob_key, thumbnailKey: r.thumbnail_key };
    });
  }

  /**
   * Deletes the record unless some message holds it (a reference may have arrived since it was
   * listed), or a commit named it in the last RECENTLY_NAMED_MS: its message's reference row may
   * not be written yet, by this node's tracker or another's. A commit naming it at this very moment
   * holds the row's lock: the deletion waits for it and then sees the mark (a serialization
   * failure, and the retry reads it), or deletes first and the commit is refused
   * (PgUpdateStore.append, MissingUploadsError).
   */
  async deleteIfUnheld(id: string): Promise<boolean> {
    const { rowCount } = await atomically(
      this.#db,
      (db) =>
        db.query(
          `DELETE FROM attachments WHERE id = $1
             AND NOT EXISTS (SELECT 1 FROM attachment_refs WHERE attachment_id = $1)
             AND (named_at IS NULL OR named_at < (extract(epoch FROM clock_timestamp()) * 1000)::bigint - $2)`,
          [id, RECENTLY_NAMED_MS],
        ),
      SERIALIZABLE,
    );
    return (rowCount ?? 0) > 0;
  }

  /** Whether any record names this blob key (as its bytes or its thumbnail). */
  async keyInUse(key: string): Promise<boolean> {
    const { rows } = await this.#db.query('SELECT 1 AS used FROM attachments WHERE blob_key = $1 OR thumbnail_key = $1 LIMIT 1', [key]);
    return rows.length > 0;
  }

  /**
   * Runs `fn` in one SERIALIZABLE transaction, on the repository it is given (bound to that
   * transaction); a savepoint inside the caller's. `fn` may run more than once (see above).
   */
  transaction<T>(fn: (repo: PgAttachmentRepo) => Promise<T> | T): Promise<T> {
    return transaction(this.#db, async (client) => fn(new PgAttachmentRepo(client)), SERIALIZABLE);
  }
}
