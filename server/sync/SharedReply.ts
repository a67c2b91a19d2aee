/**
 * One reply shared by every connection that asks the same question while the answer stays the
 * same. Room uses it for the whole-room step 2 that clients joining with nothing ask for: in a
 * join storm hundreds ask at once, and ws queues the same buffers on every socket, so the server
 * holds the room's full state once instead of once per joiner (25 MiB each for a 100,000-message
 * room). `invalidate` on every change; a quiet spell of `keepMs` drops it too, so an idle room
 * does not hold it. A reply made off the main thread (a promise) is shared while it is under way
 * too, and kept only if nothing changed before it arrived.
 */
export class SharedReply<T = Uint8Array> {
  readonly #keepMs: number;
  #reply: T | null = null;
  #pending: Promise<T> | null = null;
  #timer: NodeJS.Timeout | undefined;

  constructor(keepMs: number) {
    this.#keepMs = keepMs;
  }

  /** The shared reply, producing it first when there is none; a throwing or rejecting `produce` caches nothing. */
  get(produce: () => T | Promise<T>): T | Promise<T> {
    if (this.#reply !== null) {
      this.#touch();
      return this.#reply;
    }
    if (this.#pending) return this.#pending;
    const produced = produce();
    if (!(produced instanceof Promise)) {
      this.#reply = produced;
      this.#touch();
      return produced;
    }
    const pending: Promise<T> = produced.then(
      (reply) => {
        // Still the reply under way: nothing changed (invalidate would have dropped it).
        if (this.#pending === pending) {
          this.#pending = null;
          this.#reply = reply;
          this.#touch();
        }
        return reply;
      },
      (err: unknown) => {
        if (this.#pending === pending) this.#pending = null;
        throw err;
      },
    );
    this.#pending = pending;
    return pending;
  }

  /** The shared reply if one is at hand now (not one under way), else null. */
  peek(): T | null {
    return this.#reply;
  }

  /** Takes `reply` as the current answer (one already at hand), unless one is being produced. */
  seed(reply: T): void {
    if (this.#pending) return;
    this.#reply = reply;
    this.#touch();
  }

  invalidate(): void {
    this.#reply = null;
    this.#pending = null;
  }

  close(): void {
    clearTimeout(this.#timer);
    this.#reply = null;
    this.#pending = null;
  }

  #touch(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => (this.#reply = null), this.#keepMs);
    this.#timer.unref();
  }
}
