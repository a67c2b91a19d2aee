import { z } from 'zod';
import { BlobStoreError } from './BlobStoreError.ts';

/** Bytes `start` to `end` of a blob, both inclusive (as in an HTTP Range header). */
export const BlobRangeSchema = z
  .object({ start: z.number().int().nonnegative(), end: z.number().int().nonnegative() })
  .strict()
  .refine((r) => r.start <= r.end, 'start is after end');
export type BlobRange = z.infer<typeof BlobRangeSchema>;

/** `range`'s shape, checked before the store is asked; throws BlobStoreError('bad_range'). */
export function parseBlobRange(range: unknown): BlobRange {
  const parsed = BlobRangeSchema.safeParse(range);
  if (!parsed.success) throw new BlobStoreError('bad_range', `bad range: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  return parsed.data;
}

/**
 * Throws BlobStoreError('bad_range') unless `range` lies inside a blob of `size` bytes. An empty
 * blob has no satisfiable range (HTTP answers 416 there too); read it whole instead.
 */
export function checkRangeWithin(range: BlobRange, size: number): void {
  if (range.end >= size) throw new BlobStoreError('bad_range', `range ${range.start}-${range.end} is past the end of a ${size}-byte blob`);
}
