/**
 * Counts open connections per user, across all rooms and both socket endpoints. `acquire` is synchronous and the
 * release it returns is idempotent, so the count stays exact whatever order opens, failed opens
 * and closes happen in: only a socket that got a slot releases one, and only once.
 */
export class ConnectionSlots {
  readonly #max: number;
  readonly #open = new Map<string, number>();

  constructor(maxPerUser: number) {
    this.#max = maxPerUser;
  }

  /** A slot for `userId`, as its release function; null when the user already holds the maximum. */
  acquire(userId: string): (() => void) | null {
    const held = this.#open.get(userId) ?? 0;
    if (held >= this.#max) return null;
    this.#open.set(userId, held + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const now = (this.#open.get(userId) ?? 1) - 1;
      if (now > 0) this.#open.set(userId, now);
      else this.#open.delete(userId);
    };
  }

  /** The most connections one user may hold. */
  get max(): number {
    return this.#max;
  }

  /** Open connections of `userId`. */
  count(userId: string): number {
    return this.#open.get(userId) ?? 0;
  }
}
