/**
 * The expected failures of a blob store, one fixed list. They are thrown (rejections), not
 * returned as values, because every method is a stream-fed promise that can also fail with I/O
 * errors: the caller needs one catch either way, and `code` tells the expected ones apart.
 * The HTTP edge maps them: `too_large` to 413 payload_too_large, `bad_range` to 416,
 * `bad_key` to 404 (a key that cannot exist names no blob).
 */
export type BlobStoreErrorCode =
  /** More than `maxBytes` arrived; the upload was stopped and nothing of it was kept. */
  | 'too_large'
  /** A range that is malformed (negative, fractional, start after end) or past the blob's end. */
  | 'bad_range'
  /** A key that is not a content address (64 lowercase hex digits), e.g. `../../etc/passwd`. */
  | 'bad_key';

export class BlobStoreError extends Error {
  readonly code: BlobStoreErrorCode;
  constructor(code: BlobStoreErrorCode, message: string) {
    super(message);
    this.name = 'BlobStoreError';
    this.code = code;
  }
}

/** True when `err` is the blob store's expected failure `code` (for a catch that handles only that one). */
export const isBlobStoreError = (err: unknown, code?: BlobStoreErrorCode): err is BlobStoreError =>
  err instanceof BlobStoreError && (code === undefined || err.code === code);
