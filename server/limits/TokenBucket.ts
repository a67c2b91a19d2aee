/** Milliseconds from some fixed origin (performance.now by default; tests inject their own). */
export type Clock = () => number;

export interface TokenBucketOptions {
  /** Most tokens the bucket holds: the longest burst allowed after a quiet spell. */
  capacity: number;
  /** Tokens added per second, up to `capacity`: the sustained rate allowed. */
  refillPerSecond: number;
  now?: Clock;
}

/**
 * A token bucket: starts full, each `take()` spends one token, tokens come back continuously at
 * `refillPerSecond`. Lazy refill on each take (no timer), so an idle connection costs nothing.
 */
export class TokenBucket {
  readonly capacity: number;
  readonly refillPerSecond: number;
  readonly #now: Clock;
  #tokens: number;
  #last: number;

  constructor({ capacity, refillPerSecond, now = () => performance.now() }: TokenBucketOptions) {
    if (!(capacity >= 1) || !Number.isFinite(capacity)) throw new RangeError(`capacity must be a finite number >= 1, got ${capacity}`);
    if (!(refillPerSecond > 0) || !Number.isFinite(refillPerSecond)) {
      throw new RangeError(`refillPerSecond must be a finite number > 0, got ${refillPerSecond}`);
    }
    this.capacity = capacity;
    this.refillPerSecond = refillPerSecond;
    this.#now = now;
    this.#tokens = capacity;
    this.#last = now();
  }

  /** Spends `n` tokens (one by default); false (and nothing spent) when fewer are left. */
  take(n = 1): boolean {
    this.#refill();
    if (this.#tokens < n) return false;
    this.#tokens -= n;
    return true;
  }

  /** Milliseconds until take(n) would succeed (0 when it would now; n is at most the capacity). */
  msUntilToken(n = 1): number {
    this.#refill();
    return this.#tokens >= n ? 0 : Math.ceil(((n - this.#tokens) * 1000) / this.refillPerSecond);
  }

  /** Tokens available now (fractional while refilling). */
  get available(): number {
    this.#refill();
    return this.#tokens;
  }

  #refill(): void {
    const now = this.#now();
    // A clock that steps backwards (it should not) refills nothing rather than draining the bucket.
    const elapsedMs = Math.max(0, now - this.#last);
    this.#last = now;
    this.#tokens = Math.min(this.capacity, this.#tokens + (elapsedMs * this.refillPerSecond) / 1000);
  }
}
