import { type Clock, TokenBucket } from './TokenBucket.ts';

export interface UserRateLimit {
  /** Actions one user may take in a burst. */
  burst: number;
  /** Actions per minute a user may keep up. */
  perMinute: number;
}

/** Above this many users tracked, buckets that refilled completely are dropped (they hold nothing). */
const SWEEP_ABOVE = 10_000;

/**
 * One token bucket per user for an action that is cheap to ask for and costly to keep (creating
 * a room). take() answers how long to wait when the user is over the limit, for a 429's
 * Retry-After. A full bucket carries no information, so the map stays bounded by the users who
 * acted recently.
 */
export class UserRateLimiter {
  readonly #limit: UserRateLimit;
  readonly #now: Clock | undefined;
  readonly #buckets = new Map<string, TokenBucket>();

  constructor(limit: UserRateLimit, now?: Clock) {
    this.#limit = limit;
    this.#now = now;
  }

  /** Spends one of the user's tokens: null when allowed, or the seconds to wait before trying again. */
  take(userId: string): { retryAfterSeconds: number } | null {
    let bucket = this.#buckets.get(userId);
    if (!bucket) {
      if (this.#buckets.size >= SWEEP_ABOVE) this.#sweep();
      bucket = new TokenBucket({ capacity: this.#limit.burst, refillPerSecond: this.#limit.perMinute / 60, ...(this.#now ? { now: this.#now } : {}) });
      this.#buckets.set(userId, bucket);
    }
    if (bucket.take()) return null;
    return { retryAfterSeconds: Math.max(1, Math.ceil(bucket.msUntilToken() / 1000)) };
  }

  #sweep(): void {
    for (const [userId, bucket] of this.#buckets) if (bucket.available >= bucket.capacity) this.#buckets.delete(userId);
  }
}
