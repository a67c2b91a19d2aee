import { z } from 'zod';
import { BlobStoreError } from './BlobStoreError.ts';

/**
 * A blob's key is its content address: the SHA-256 of its bytes as 64 lowercase hex digits.
 * Nothing else passes, so a key can never hold a dot, a slash or anything else that would let
 * it name a path (or an object key) outside the store.
 */
export const BlobKeySchema = z.string().regex(/^[0-9a-f]{64}$/, 'a blob key is 64 lowercase hex digits (sha256)');

/** `key`, checked; throws BlobStoreError('bad_key') otherwise. Every store method calls it first. */
export function parseBlobKey(key: unknown): string {
  const parsed = BlobKeySchema.safeParse(key);
  if (!parsed.success) throw new BlobStoreError('bad_key', `not a blob key: ${JSON.stringify(String(key)).slice(0, 80)}`);
  return parsed.data;
}
