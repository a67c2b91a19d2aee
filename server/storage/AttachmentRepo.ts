import { z } from 'zod';
import type { AttachmentRef } from '../../shared/models/attachment.ts';
import type { Db } from './openDatabase.ts';
import { parseRow, stateVectorOf } from './sqlRows.ts';

/** One upload as recorded (the `attachments` table). */
export interface AttachmentRecord {
  readonly id: string;
  readonly roomId: string;
  readonly uploaderId: string;
  /** The blob store key of the bytes (their sha256): uploads of the same bytes share it. */
  readonly blobKey: string;
  readonly name: string;
  readonly mimeType: string;
  readonly size: number;
  /** Images sharp decoded: pixel size of the original (null otherwise). */
  readonly width: number | null;
  readonly height: number | null;
  /** The thumbnail's blob key, for images sharp decoded; null otherwise. */
  readonly thumbnailKey: string | null;
  /** image/jpeg, or image/png for images with alpha; null without a thumbnail. */
  readonly thumbnailType: string | null;
  readonly createdAt: number;
}

/** What a garbage-collection pass may remove: its record and the blobs it names. */
export interface CollectableAttachment {
  readonly id: string;
  /** Only this room's messages can name it (the validator's rule), so only its documents are read before it goes. */
  readonly roomId: string;
  readonly blobKey: string;
  readonly thumbnailKey: string | null;
}

const RecordRowSchema = z.object({
  id: z.string(),
  room_id: z.string(),
  uploader_id: z.string(),
  blob_key: z.string(),
  name: z.string(),
  mime_type: z.string(),
  size: z.number().int().nonnegative(),
  width: z.number().int().positive().nullable(),
  height: z.number().int().positive().nullable(),
  thumbnail_key: z.string().nullable(),
  thumbnail_type: z.string().nullable(),
  created_at: z.number().int().nonnegative(),
});
/** Row schemas, shared with PgAttachmentRepo (which reads `attachments` rows through toRecord). */
export const CollectableRowSchema = z.object({ id: z.string(), room_id: z.string(), blob_key: z.string(), thumbnail_key: z.string().nullable() });
export const SumRowSchema = z.object({ total: z.number().int().nonnegative() });
export const RefRowSchema = z.object({ attachment_id: z.string(), doc_name: z.string() });
export const MessageRowSchema = z.object({ message_id: z.string() });

/** An `attachments` row (all the columns `get` selects), parsed. */
export const toRecord = (row: unknown): AttachmentRecord => {
  const r = parseRow(RecordRowSchema, row, 'attachments');
  return {
    id: r.id,
    roomId: r.room_id,
    uploaderId: r.uploader_id,
    blobKey: r.blob_key,
    name: r.name,
    mimeType: r.mime_type,
    size: r.size,
    width: r.width,
    height: r.height,
    thumbnailKey: r.thumbnail_key,
    thumbnailType: r.thumbnail_type,
    createdAt: r.created_at,
  };
};

/** The reference a message stores for a record (what the validator compares a message's refs with). */
export function refOf(record: AttachmentRecord): AttachmentRef {
  return {
    id: record.id,
    name: record.name,
    mimeType: record.mimeType,
    size: record.size,
    ...(record.width !== null && record.height !== null ? { width: record.width, height: record.height } : {}),
  };
}

/**
 * Attachment records and their references (docs/attachments.md, "Reference tracking"): the
 * `attachments`, `attachment_refs` and `attachment_tracked` tables. Reference rows are keyed by
 * (attachment, message) and name the document they were seen in, as search_rows do: a message
 * the Segmenter moves between documents keeps its rows, and a removal noticed in the old document
 * drops only rows that document wrote.
 */
export class AttachmentRepo {
  readonly #db: Db;
  readonly #insert;
  readonly #get;
  readonly #usage;
  readonly #refsOfMessage;
  readonly #putRef;
  readonly #markReferenced;
  readonly #deleteRef;
  readonly #countRefs;
  readonly #markReleased;
  readonly #messagesOfDoc;
  readonly #stateOf;
  readonly #putState;
  readonly #forgetState;
  readonly #released;
  readonly #neverReferenced;
  readonly #deleteIfUnheld;
  readonly #keyInUse;

  constructor(db: Db) {
    this.#db = db;
    this.#insert = db.prepare(
      `INSERT INTO attachments (id, room_id, uploader_id, blob_key, name, mime_type, size, width, height, thumbnail_key, thumbnail_type, created_at)
       VALUES (@id, @room_id, @uploader_id, @blob_key, @name, @mime_type, @size, @width, @height, @thumbnail_key, @thumbnail_type, @created_at)`,
    );
    this.#get = db.prepare<[string]>(
      'SELECT id, room_id, uploader_id, blob_key, name, mime_type, size, width, height, thumbnail_key, thumbnail_type, created_at FROM attachments WHERE id = ?',
    );
    this.#usage = db.prepare<[string]>('SELECT coalesce(sum(size), 0) AS total FROM attachments WHERE uploader_id = ?');
    this.#refsOfMessage = db.prepare<[string]>('SELECT attachment_id, doc_name FROM attachment_refs WHERE message_id = ?');
    this.#putRef = db.prepare<{ attachment_id: string; message_id: string; room_id: string; doc_name: string }>(
      `INSERT OR REPLACE INTO attachment_refs (attachment_id, message_id, room_id, doc_name)
       SELECT @attachment_id, @message_id, @room_id, @doc_name WHERE EXISTS (SELECT 1 FROM attachments WHERE id = @attachment_id AND room_id = @room_id)`,
    );
    this.#markReferenced = db.prepare<[number, string]>('UPDATE attachments SET referenced_at = coalesce(referenced_at, ?), released_at = NULL WHERE id = ?');
    this.#deleteRef = db.prepare<[string, string]>('DELETE FROM attachment_refs WHERE attachment_id = ? AND message_id = ?');
    this.#countRefs = db.prepare<[string]>('SELECT count(*) AS total FROM attachment_refs WHERE attachment_id = ?');
    this.#markReleased = db.prepare<[number, string]>('UPDATE attachments SET released_at = ? WHERE id = ? AND referenced_at IS NOT NULL');
    this.#messagesOfDoc = db.prepare<[string]>('SELECT DISTINCT message_id FROM attachment_refs WHERE doc_name = ?');
    this.#stateOf = db.prepare<[string]>('SELECT state_vector FROM attachment_tracked WHERE doc_name = ?');
    this.#putState = db.prepare<[string, Buffer]>('INSERT OR REPLACE INTO attachment_tracked (doc_name, state_vector) VALUES (?, ?)');
    this.#forgetState = db.prepare<[string]>('DELETE FROM attachment_tracked WHERE doc_name = ?');
    this.#released = db.prepare<[number, number]>('SELECT id, room_id, blob_key, thumbnail_key FROM attachments WHERE released_at IS NOT NULL AND released_at <= ? LIMIT ?');
    this.#neverReferenced = db.prepare<[number, number]>(
      'SELECT id, room_id, blob_key, thumbnail_key FROM attachments WHERE referenced_at IS NULL AND created_at <= ? LIMIT ?',
    );
    this.#deleteIfUnheld = db.prepare<{ id: string }>('DELETE FROM attachments WHERE id = @id AND NOT EXISTS (SELECT 1 FROM attachment_refs WHERE attachment_id = @id)');
    this.#keyInUse = db.prepare<{ key: string }>('SELECT 1 FROM attachments WHERE blob_key = @key OR thumbnail_key = @key LIMIT 1');
  }

  insert(record: AttachmentRecord): void {
    this.#insert.run({
      id: record.id,
      room_id: record.roomId,
      uploader_id: record.uploaderId,
      blob_key: record.blobKey,
      name: record.name,
      mime_type: record.mimeType,
      size: record.size,
      width: record.width,
      height: record.height,
      thumbnail_key: record.thumbnailKey,
      thumbnail_type: record.thumbnailType,
      created_at: record.createdAt,
    });
  }

  get(id: string): AttachmentRecord | null {
    const row = this.#get.get(id);
    return row === undefined ? null : toRecord(row);
  }

  /** Bytes of every live upload of the user (the quota counts them). */
  usageOf(uploaderId: string): number {
    return parseRow(SumRowSchema, this.#usage.get(uploaderId), 'attachments').total;
  }

  /**
   * The message, as seen in document `docName`, holds exactly `attachmentIds` (ids of other rooms'
   * uploads are ignored: the validator never lets them in). Rows it held before and holds no longer
   * are dropped; an attachment left with no row is released at `now`.
   */
  setMessageRefs(roomId: string, docName: string, messageId: string, attachmentIds: readonly string[], now: number): void {
    const keep = new Set(attachmentIds);
    for (const row of this.#rowsOf(messageId)) if (!keep.has(row.attachment_id)) this.#drop(row.attachment_id, messageId, now);
    for (const id of keep) {
      const { changes } = this.#putRef.run({ attachment_id: id, message_id: messageId, room_id: roomId, doc_name: docName });
      if (changes > 0) this.#markReferenced.run(now, id);
    }
  }

  /**
   * The message no longer holds attachments in document `docName`. With `anyDocument` (it was
   * deleted: a deletion wins wherever the rows were written) every row goes; otherwise only rows
   * that document wrote (a message moved to another document keeps the rows written from there).
   */
  dropMessageRefs(docName: string, messageId: string, now: number, anyDocument: boolean): void {
    for (const row of this.#rowsOf(messageId)) if (anyDocument || row.doc_name === docName) this.#drop(row.attachment_id, messageId, now);
  }

  /** Messages with reference rows written from document `docName`. */
  messagesOf(docName: string): string[] {
    return this.#messagesOfDoc.all(docName).map((row) => parseRow(MessageRowSchema, row, 'attachment_refs').message_id);
  }

  trackedState(docName: string): Uint8Array | null {
    const row = this.#stateOf.get(docName);
    return stateVectorOf(row, 'attachment_tracked');
  }

  recordTracked(docName: string, stateVector: Uint8Array): void {
    this.#putState.run(docName, Buffer.from(stateVector));
  }

  forgetTracked(docName: string): void {
    this.#forgetState.run(docName);
  }

  /**
   * Uploads garbage collection may remove, at most `limit`: released (every message holding them
   * was deleted) at or before `releasedBefore`, or never referenced and created at or before
   * `createdBefore` (the grace period).
   */
  collectable(releasedBefore: number, createdBefore: number, limit: number): CollectableAttachment[] {
    const rows = [...this.#released.all(releasedBefore, limit), ...this.#neverReferenced.all(createdBefore, limit)];
    return rows.slice(0, limit).map((row) => {
      const r = parseRow(CollectableRowSchema, row, 'attachments');
      return { id: r.id, roomId: r.room_id, blobKey: r.blob_key, thumbnailKey: r.thumbnail_key };
    });
  }

  /** Deletes the record unless some message holds it (a reference may have arrived since it was listed). */
  deleteIfUnheld(id: string): boolean {
    return this.#deleteIfUnheld.run({ id }).changes > 0;
  }

  /** Whether any record names this blob key (as its bytes or its thumbnail). */
  keyInUse(key: string): boolean {
    return this.#keyInUse.get({ key }) !== undefined;
  }

  /** Runs `fn` in one transaction. */
  transaction<T>(fn: () => T): T {
    return this.#db.transaction(fn).immediate();
  }

  #rowsOf(messageId: string): z.infer<typeof RefRowSchema>[] {
    return this.#refsOfMessage.all(messageId).map((row) => parseRow(RefRowSchema, row, 'attachment_refs'));
  }

  #drop(attachmentId: string, messageId: string, now: number): void {
    this.#deleteRef.run(attachmentId, messageId);
    if (parseRow(SumRowSchema, this.#countRefs.get(attachmentId), 'attachment_refs').total === 0) this.#markReleased.run(now, attachmentId);
  }
}
