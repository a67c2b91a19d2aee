import { type Clock, TokenBucket } from './TokenBucket.ts';

export interface UserRateLimit {
  /** Actions (or bytes) one user may take in a burst. */
  burst: number;
  /** Actions (or bytes) per minute a user may keep up. */
  perMinute: number;
}

/** Above this many users tracked, buckets that refilled completely are dropped (they hold nothing). */
const SWEEP_ABOVE = 10_000;

/**
 * One token bucket per user for something cheap to ask for and costly to keep: rooms created,
 * or the bytes one member adds to a room. take() answers how long to wait when the user is over
 * the limit, for a 429's Retry-After. A full bucket carries no information, so the map stays
 * bounded by the users who acted recently.
 */
export class UserRateLimiter {
  readonly #limit: UserRateLimit;
  readonly #now: Clock | undefined;
  readonly #buckets = new Map<string, TokenBucket>();

  constructor(limit: UserRateLimit, now?: Clock) {
    this.#limit = limit;
    this.#now = now;
  }

  /**
   * Spends `amount` of the user's tokens (one by default; more than the burst spends a full
   * bucket): null when allowed, or the seconds to wait before trying again.
   */
  take(userId: string, amount = 1): { retryAfterSeconds: number } | null {
    let bucket = this.#buckets.get(userId);
    if (!bucket) {
      if (this.#buckets.size >= SWEEP_ABOVE) this.#sweep();
      bucket = new TokenBucket({ capacity: this.#limit.burst, refillPerSecond: this.#limit.perMinute / 60, ...(this.#now ? { now: this.#now } : {}) });
      this.#buckets.set(userId, bucket);
    }
    const n = Math.min(amount, bucket.capacity);
    if (bucket.take(n)) return null;
    return { retryAfterSeconds: Math.max(1, Math.ceil(bucket.msUntilToken(n) / 1000)) };
  }

  #sweep(): void {
    for (const [userId, bucket] of this.#buckets) if (bucket.available >= bucket.capacity) this.#buckets.delete(userId);
  }
}
