import { uuidv7 } from '../../shared/ids.ts';
import { ParleyError } from '../../shared/errors/errorCodes.ts';
import type { AttachmentSettings } from '../config.ts';
import type { Logger } from '../log.ts';
import type { BlobRange } from '../blobs/blobRange.ts';
import type { BlobRead, BlobSource, BlobStore } from '../blobs/BlobStore.ts';
import { isBlobStoreError } from '../blobs/BlobStoreError.ts';
import type { AttachmentRecord, AttachmentRepo } from '../storage/AttachmentRepo.ts';
import type { AsyncApi } from '../storage/AsyncApi.ts';
import { makeThumbnail, THUMBNAIL_SOURCE_TYPES, type Thumbnail } from './makeThumbnail.ts';
import { sniffMimeType } from './sniffMimeType.ts';
import { Semaphore } from './Semaphore.ts';

/** Thumbnails made at once: sharp collects a streamed image in memory, so this bounds it (2 x 25 MiB at the default limit). */
const THUMBNAIL_CONCURRENCY = 2;
/** Records one garbage-collection pass removes at most (the next pass takes the rest). */
export const GC_BATCH = 500;

export interface UploadInput {
  readonly roomId: string;
  readonly uploaderId: string;
  readonly body: BlobSource;
  /** The request's Content-Type (parsed, lowercase, no parameters), or null: only a hint (sniffMimeType.ts). */
  readonly declaredType: string | null;
  readonly name: string;
  /** The request's Content-Length when it had one: over a limit is refused before a byte is read. */
  readonly contentLength: number | null;
}

/**
 * What garbage collection asks of reference tracking before it deletes (docs/attachments.md,
 * "Garbage collection"): the server's is the AttachmentTracker (loaded documents) and a
 * StoredReferenceScan (stored ones), `liveReferences`; `parley gc-attachments`'s only the latter.
 */
export interface ReferenceCheck {
  /** Writes the rows loaded documents wait for (before the candidates are listed, so that a deletion a moment ago counts). */
  flush(): Promise<void>;
  /** Brings the rows up to every stored document of the rooms; resolves to the rooms whose every document is accounted for. */
  settle(roomIds: ReadonlySet<string>): Promise<SettledRooms>;
  /**
   * Runs `remove` in one transaction of the repository (handed to it), after writing in it the
   * rows loaded documents wait for, also of changes not committed yet; `guard` writes, in the same
   * transaction, what they note while it runs.
   */
  removing<R>(remove: (tx: AsyncApi<AttachmentRepo>, guard: RemovalGuard) => Promise<R>): Promise<R>;
}

/** The rooms a settle() accounted for; release() once the pass is done with them. */
export interface SettledRooms {
  /** Whether every document of the room is accounted for (false once one of them has loaded since: the tracker's from then on). */
  has(roomId: string): boolean;
  release(): void;
}

/** What a removal checks right before each deletion (synchronously: nothing can change the documents between the check and the statement). */
export interface RemovalGuard {
  /** Whether the room's loaded documents noted changes whose rows are not written in this transaction yet. */
  noted(roomId: string): boolean;
  /** Writes them in this transaction. */
  catchUp(): Promise<void>;
  /** Whether the loaded documents of the room are accounted for (each one's state as it loaded has been compared with what the rows hold). */
  settled(roomId: string): boolean;
}

export interface CollectOutcome {
  readonly records: number;
  readonly blobs: number;
}

/**
 * Uploads, downloads and removal of attachments (docs/attachments.md): the bytes go to the blob
 * store, streamed; the record to the database (AsyncApi<AttachmentRepo>: SQLite or PostgreSQL). Expected failures throw ParleyError:
 * `payload_too_large` (over PARLEY_ATTACHMENT_MAX_BYTES), `quota_exceeded` (over the uploader's
 * PARLEY_ATTACHMENT_QUOTA_BYTES), `conflict` (the rare upload that raced the removal of the very
 * same bytes; sending it again works).
 *
 * Blob keys are shared by uploads of the same bytes, so a blob is deleted only when no record
 * names it. One lock orders "check no record names the key, delete the blob" (garbage collection)
 * against "check the blob is there, insert the record" (an upload's last step): an upload's
 * record never names a blob that is gone. With several nodes on one database and blob store, the
 * lock is also theirs (`clusterLock`).
 */
/** The advisory lock key (PostgreSQL) of blob removals and uploads' last step, across nodes. */
export const BLOB_KEYS_LOCK = 0x9a71e7;

export class Attachments {
  readonly #repo: AsyncApi<AttachmentRepo>;
  readonly #blobs: () => Promise<BlobStore>;
  readonly #settings: AttachmentSettings;
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #thumbnails = new Semaphore(THUMBNAIL_CONCURRENCY);
  /** Record insertions and blob deletions, one at a time (both are short: a stat or an unlink, and SQL). */
  readonly #keys = new Semaphore(1);
  /** The same, across the nodes sharing the database and blob store (none for one process). */
  readonly #acrossNodes: <R>(fn: () => Promise<R>) => Promise<R>;

  constructor(deps: {
    repo: AsyncApi<AttachmentRepo>;
    blobs: () => Promise<BlobStore>;
    settings: AttachmentSettings;
    logger: Logger;
    now?: () => number;
    /** Several nodes (PostgreSQL): a lock they share, taken inside this process's own (storage/pg/advisoryLock.ts). */
    clusterLock?: <R>(fn: () => Promise<R>) => Promise<R>;
  }) {
    this.#acrossNodes = deps.clusterLock ?? ((fn) => fn());
    this.#repo = deps.repo;
    this.#blobs = deps.blobs;
    this.#settings = deps.settings;
    this.#logger = deps.logger;
    this.#now = deps.now ?? Date.now;
  }

  get settings(): AttachmentSettings {
    return this.#settings;
  }

  /** Bytes the user may still upload (Infinity without a quota). */
  async remainingQuota(userId: string): Promise<number> {
    const quota = this.#settings.quotaBytes;
    return quota === null ? Infinity : Math.max(0, quota - (await this.#repo.usageOf(userId)));
  }

  /**
   * The limits checked before a byte is read: Content-Length over the size limit, or over what
   * the quota leaves. Throws ParleyError.
   */
  async checkDeclaredLength(userId: string, contentLength: number | null): Promise<void> {
    if (contentLength === null) return;
    if (contentLength > this.#settings.maxBytes) throw tooLarge(this.#settings.maxBytes);
    const remaining = await this.remainingQuota(userId);
    if (contentLength > remaining) throw overQuota(this.#settings.quotaBytes, remaining);
  }

  /** Stores an upload: bytes, sniffed type, thumbnail for images, record. */
  async upload(input: UploadInput): Promise<AttachmentRecord> {
    await this.checkDeclaredLength(input.uploaderId, input.contentLength);
    const blobs = await this.#blobs();
    const remaining = await this.remainingQuota(input.uploaderId);
    const maxBytes = Math.min(this.#settings.maxBytes, remaining);
    let stored;
    try {
      stored = await blobs.put(input.body, { maxBytes });
    } catch (err) {
      if (isBlobStoreError(err, 'too_large')) throw maxBytes < this.#settings.maxBytes ? overQuota(this.#settings.quotaBytes, remaining) : tooLarge(maxBytes);
      throw err;
    }
    let thumbnailKey: string | null = null;
    try {
      const mimeType = await sniffMimeType(stored.head, input.declaredType);
      const thumbnail = THUMBNAIL_SOURCE_TYPES.has(mimeType) ? await this.#thumbnailOf(blobs, stored.key) : null;
      if (thumbnail) thumbnailKey = (await blobs.put(once(thumbnail.bytes), { maxBytes: thumbnail.bytes.byteLength })).key;
      const record: AttachmentRecord = {
        id: uuidv7(this.#now()),
        roomId: input.roomId,
        uploaderId: input.uploaderId,
        blobKey: stored.key,
        name: input.name,
        mimeType,
        size: stored.size,
        width: thumbnail?.width ?? null,
        height: thumbnail?.height ?? null,
        thumbnailKey,
        thumbnailType: thumbnail?.mimeType ?? null,
        createdAt: this.#now(),
      };
      await this.#keys.run(() => this.#acrossNodes(async () => {
        // Garbage collection may have deleted these very bytes (an older upload's) since the put.
        for (const key of [record.blobKey, record.thumbnailKey]) {
          if (key !== null && (await blobs.stat(key)) === null) throw new ParleyError('conflict', 'the upload raced the removal of a file with the same bytes; send it again');
        }
        const quota = this.#settings.quotaBytes;
        // The check and the insert in one transaction (on PostgreSQL SERIALIZABLE, possibly run again), through `tx` only.
        await this.#repo.transaction(async (tx) => {
          // Concurrent uploads of one user each passed the first check: the last to finish may not fit.
          if (quota !== null) {
            const usage = await tx.usageOf(input.uploaderId);
            if (usage + record.size > quota) throw overQuota(quota, Math.max(0, quota - usage));
          }
          await tx.insert(record);
        });
      }));
      return record;
    } catch (err) {
      // Nothing of a failed upload stays: its blobs go unless another record shares them.
      await this.#deleteUnusedBlobs(blobs, [stored.key, thumbnailKey]);
      throw err;
    }
  }

  /** The upload's bytes (a range of them), or null when the blob is missing. Throws BlobStoreError('bad_range'). */
  async read(record: AttachmentRecord, range?: BlobRange): Promise<BlobRead | null> {
    return (await this.#blobs()).get(record.blobKey, range);
  }

  async readThumbnail(record: AttachmentRecord): Promise<BlobRead | null> {
    return record.thumbnailKey === null ? null : (await this.#blobs()).get(record.thumbnailKey);
  }

  /**
   * One garbage-collection pass: removes the records of uploads whose messages were all deleted,
   * and of uploads no message ever held once older than the grace period; then each blob they
   * named that no record names any more. Before anything goes, `references` brings the rows up
   * to every document of the candidates' rooms (a crash can lose rows a commit was due to write);
   * a room it cannot vouch for keeps its uploads until a later pass.
   */
  async collect(references: ReferenceCheck, at?: number): Promise<CollectOutcome> {
    const blobs = await this.#blobs();
    await references.flush();
    // The pass's clock is read after the catch-up: a message deleted before the pass began is
    // released by the flush at a time of its own, which must not be later than the pass's.
    const now = at ?? this.#now();
    const candidates = await this.#repo.collectable(now, now - this.#settings.graceMs, GC_BATCH);
    if (candidates.length === 0) return { records: 0, blobs: 0 };
    const settled = await references.settle(new Set(candidates.map((c) => c.roomId)));
    let removed: typeof candidates;
    try {
      removed = await references.removing(async (tx, guard) => {
        const gone: typeof candidates = [];
        for (const c of candidates) {
          if (!settled.has(c.roomId)) continue;
          // What the room's loaded documents noted while the rooms were read, or while this
          // transaction runs (an update applied by a promise continuation), is written first, here.
          while (guard.noted(c.roomId)) await guard.catchUp();
          // From these checks to the statement nothing else runs (the call starts it; on SQLite it
          // runs at once): a message applied later finds the record gone (the validator reads it on
          // this connection), and one applied before has its row written above.
          if (!settled.has(c.roomId) || !guard.settled(c.roomId)) continue;
          if (await tx.deleteIfUnheld(c.id)) gone.push(c);
        }
        return gone;
      });
    } finally {
      settled.release();
    }
    const keys = [...new Set(removed.flatMap((c) => (c.thumbnailKey === null ? [c.blobKey] : [c.blobKey, c.thumbnailKey])))];
    const deleted = await this.#deleteUnusedBlobs(blobs, keys);
    if (removed.length > 0) this.#logger.info({ records: removed.length, blobs: deleted }, 'attachments: garbage collected');
    return { records: removed.length, blobs: deleted };
  }

  /**
   * Deletes every blob no record names: what a crash between storing an upload's bytes and
   * recording it leaves. Only with no upload in progress (`parley gc-attachments`, server stopped):
   * a live upload's bytes are stored before its record.
   */
  async collectOrphanBlobs(): Promise<number> {
    const blobs = await this.#blobs();
    const orphans: string[] = [];
    for await (const key of blobs.keys()) if (!(await this.#repo.keyInUse(key))) orphans.push(key);
    return this.#deleteUnusedBlobs(blobs, orphans);
  }

  /** Deletes each blob no record names; returns how many it deleted. */
  async #deleteUnusedBlobs(blobs: BlobStore, keys: readonly (string | null)[]): Promise<number> {
    let deleted = 0;
    if (keys.every((key) => key === null)) return 0;
    await this.#keys.run(() =>
      this.#acrossNodes(async () => {
        for (const key of keys) {
          if (key === null || (await this.#repo.keyInUse(key))) continue;
          try {
            if (await blobs.delete(key)) deleted++;
          } catch (err) {
            // Left for now: a blob no record names is harmless, and a later upload of it reuses it.
            this.#logger.warn({ err, key }, 'attachments: deleting a blob failed');
          }
        }
      }),
    );
    return deleted;
  }

  async #thumbnailOf(blobs: BlobStore, key: string): Promise<Thumbnail | null> {
    return this.#thumbnails.run(async () => {
      const read = await blobs.get(key);
      return read ? makeThumbnail(read.stream) : null;
    });
  }
}

/** A source of one chunk (a thumbnail is small and made in memory). */
async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

function tooLarge(maxBytes: number): ParleyError {
  return new ParleyError('payload_too_large', `an attachment may have at most ${maxBytes} bytes (PARLEY_ATTACHMENT_MAX_BYTES)`, { max_bytes: maxBytes });
}

function overQuota(quota: number | null, remaining: number): ParleyError {
  return new ParleyError('quota_exceeded', `this upload would pass your attachment quota of ${quota ?? 0} bytes (${remaining} left); delete messages with files to free some`, {
    quota_bytes: quota,
    remaining_bytes: remaining,
  });
}
