/**
 * When the webhook sender tries again (docs/notifications.md, "Retries"). Before retry n (n = 1
 * after the first failed attempt) it waits a time drawn between half and all of
 * min(baseMs × 2^(n−1), maxMs) ("equal jitter": receivers that failed together are not hit together
 * again); after `maxAttempts` attempts in all it gives up.
 */
export interface RetrySchedule {
  readonly baseMs: number;
  readonly maxMs: number;
  readonly maxAttempts: number;
}

/** 5 s, 10 s, 20 s … 15 min, 12 attempts in all: given up between about 33 and 66 minutes after the first. */
export const DEFAULT_RETRY: RetrySchedule = { baseMs: 5_000, maxMs: 15 * 60_000, maxAttempts: 12 };

/** A Retry-After the receiver asks for is honoured up to this long. */
export const MAX_RETRY_AFTER_MS = 60 * 60_000;

/** What one attempt came to: a status from the receiver (with its Retry-After, if any), or no answer. */
export type AttemptResult = { readonly status: number; readonly retryAfterMs: number | null } | { readonly error: string };

export type AttemptOutcome =
  | { readonly kind: 'delivered' }
  | { readonly kind: 'give_up'; readonly reason: string }
  | { readonly kind: 'retry'; readonly at: number; readonly reason: string };

/** The wait before retry `n` (n ≥ 1), with `random` in [0, 1). */
export function retryDelay(n: number, schedule: RetrySchedule, random: number = Math.random()): number {
  const ceiling = Math.min(schedule.maxMs, schedule.baseMs * 2 ** Math.min(n - 1, 40));
  return Math.round(ceiling / 2 + (random * ceiling) / 2);
}

/**
 * The verdict on attempt number `attempt` (1 = the first): 2xx delivered; a 4xx other than 408
 * and 429 is the receiver refusing this request for good (bad signature, unknown user: sending it
 * again cannot help), given up; anything else (no answer, a timeout, 3xx, 408, 429, 5xx) is tried
 * again unless that was the last attempt.
 */
export function outcomeOf(result: AttemptResult, attempt: number, schedule: RetrySchedule, now: number, random: number = Math.random()): AttemptOutcome {
  const reason = 'error' in result ? result.error : `HTTP ${result.status}`;
  if (!('error' in result)) {
    if (result.status >= 200 && result.status < 300) return { kind: 'delivered' };
    if (result.status >= 400 && result.status < 500 && result.status !== 408 && result.status !== 429) return { kind: 'give_up', reason };
  }
  if (attempt >= schedule.maxAttempts) return { kind: 'give_up', reason: `${reason} after ${attempt} attempts` };
  const asked = 'error' in result || result.retryAfterMs === null ? 0 : Math.min(result.retryAfterMs, MAX_RETRY_AFTER_MS);
  return { kind: 'retry', at: now + Math.max(retryDelay(attempt, schedule, random), asked), reason };
}

/** A Retry-After header (seconds, or an HTTP date) as milliseconds from `now`; null when absent or unreadable. */
export function parseRetryAfter(header: string | null, now: number): number | null {
  if (header === null) return null;
  const trimmed = header.trim();
  if (/^\d{1,9}$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}
