import { z } from 'zod';

/**
 * A request's `Range` header against a file of `size` bytes (RFC 9110 §14): one range of
 * `bytes=a-b`, `bytes=a-` or `bytes=-n` (the last n bytes). What it asks for:
 * - `whole`: no Range, one this server ignores (several ranges, another unit, a malformed header:
 *   RFC 9110 lets a server answer those with the whole file), or a range covering everything;
 * - `range`: bytes start..end inclusive (206);
 * - `unsatisfiable`: a range that starts past the end, or any range of an empty file (416).
 */
export type RangeRequest = { kind: 'whole' } | { kind: 'range'; start: number; end: number } | { kind: 'unsatisfiable' };

const SingleRangeSchema = z
  .string()
  .regex(/^bytes=(\d{0,15})-(\d{0,15})$/)
  .transform((s) => {
    const [, a = '', b = ''] = /^bytes=(\d*)-(\d*)$/.exec(s) ?? [];
    return { first: a === '' ? null : Number(a), last: b === '' ? null : Number(b) };
  })
  .refine((r) => r.first !== null || r.last !== null);

export function parseRange(header: string | undefined, size: number): RangeRequest {
  if (header === undefined) return { kind: 'whole' };
  const parsed = SingleRangeSchema.safeParse(header.trim().toLowerCase());
  if (!parsed.success) return { kind: 'whole' };
  const { first, last } = parsed.data;
  if (first === null) {
    // A suffix: the last `last` bytes (all of them when the file is shorter).
    if (last === null || last === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'range', start: Math.max(0, size - last), end: size - 1 };
  }
  if (last !== null && last < first) return { kind: 'whole' };
  if (first >= size) return { kind: 'unsatisfiable' };
  return { kind: 'range', start: first, end: Math.min(last ?? size - 1, size - 1) };
}
