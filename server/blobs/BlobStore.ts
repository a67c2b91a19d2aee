import type { Readable } from 'node:stream';
import type { BlobRange } from './blobRange.ts';

/** What arrives in a put: any async source of bytes (a request body, a Readable, a generator). */
export type BlobSource = AsyncIterable<Uint8Array> | NodeJS.ReadableStream;

export interface PutOptions {
  /** The most bytes the upload may have; one more and the put stops reading and rejects with 'too_large'. */
  maxBytes: number;
}

/** The result of a put. */
export interface StoredBlob {
  /** The content address: sha256 of the bytes, 64 lowercase hex digits. */
  key: string;
  size: number;
  /** The first (up to) 4,096 bytes, so the caller can sniff the type without reading the blob back. */
  head: Uint8Array;
}

/** A blob being read: its bytes (only the range's when a range was asked for) and its whole size. */
export interface BlobRead {
  stream: Readable;
  /** The size of the whole blob, also for a range read (what `Content-Range: bytes a-b/size` needs). */
  size: number;
}

/**
 * Where attachments' bytes live, apart from the room documents (which keep only keys). Every
 * method is async and stream-based so the interface fits an S3-compatible store as well as the
 * filesystem (docs/attachments.md): put is a streamed (multipart) upload hashed on the way,
 * get with a range is a ranged GET. Content addressing makes a put idempotent: the same bytes
 * give the same key and one stored copy, however often and however concurrently they arrive.
 *
 * Expected failures reject with BlobStoreError (`too_large`, `bad_range`, `bad_key`); every
 * method checks its key first, so no key can reach outside the store.
 */
export interface BlobStore {
  /**
   * Streams `source` in, hashing as it comes and holding at most a chunk at a time. When more
   * than `maxBytes` arrive it stops reading (the source is closed), keeps nothing and rejects
   * with 'too_large'. A source that fails makes the put reject with its error, also keeping nothing.
   */
  put(source: BlobSource, opts: PutOptions): Promise<StoredBlob>;
  /**
   * The blob's bytes (from `range.start` to `range.end`, inclusive, when given), or null when
   * absent. The stream holds the blob open until it ends: read it to the end or destroy it.
   */
  get(key: string, range?: BlobRange): Promise<BlobRead | null>;
  stat(key: string): Promise<{ size: number } | null>;
  /** Removes the blob; false when it was not there. */
  delete(key: string): Promise<boolean>;
  /** Every stored key, in no particular order (for garbage collection); never an unfinished upload. */
  keys(): AsyncIterable<string>;
}
