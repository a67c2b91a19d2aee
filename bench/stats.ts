/** Measuring helpers shared by scenarios. Times are in milliseconds, as performance.now() gives. */

import { prng } from '../test/support/prng.ts';

/** Calls `fn(i)` `warmup` times unmeasured, then `count` times, and returns each call's duration. */
export function sample(count: number, warmup: number, fn: (i: number) => void): number[] {
  for (let i = 0; i < warmup; i++) fn(i);
  const times = new Array<number>(count);
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    fn(warmup + i);
    times[i] = performance.now() - start;
  }
  return times;
}

/** The q-quantile (0..1) by nearest rank: a value that was actually measured. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) throw new RangeError('no values');
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1] as number;
}

export const median = (values: readonly number[]): number => quantile(values, 0.5);

/** A seeded PRNG (mulberry32), so every run visits the same pages. Returns [0, 1). */
export function seededRandom(seed: number): () => number {
  return prng(seed).next;
}

const gc = (globalThis as { gc?: () => void }).gc;

/** Whether heap figures can be trusted: needs node --expose-gc (npm run bench passes it). */
export const canCollectGarbage = gc !== undefined;

/** Bytes of live JS heap after a full collection (twice: the first may leave finalizable objects). */
export function heapUsedAfterGc(): number {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed;
}
