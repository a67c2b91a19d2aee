export interface BackoffOptions {
  /** First retry after about this long (ms). Default 250. */
  readonly baseMs?: number;
  /** Never wait longer than this (ms). Default 30,000. */
  readonly maxMs?: number;
}

export const DEFAULT_BACKOFF = { baseMs: 250, maxMs: 30_000 } as const;

/**
 * Exponential backoff with "equal jitter": half of the capped exponential delay is fixed, the other
 * half random. After a server restart thousands of clients retry spread over the window instead of
 * in lockstep, and none retries in a tight loop.
 */
export function backoffDelay(attempt: number, opts: BackoffOptions = {}, random: () => number = Math.random): number {
  const base = opts.baseMs ?? DEFAULT_BACKOFF.baseMs;
  const max = opts.maxMs ?? DEFAULT_BACKOFF.maxMs;
  const cap = Math.min(max, base * 2 ** Math.min(attempt, 30));
  return Math.round(cap / 2 + random() * (cap / 2));
}
