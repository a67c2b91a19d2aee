/**
 * One encoded reply shared by every connection that asks the same question while the answer
 * stays the same. Room uses it for the whole-room step 2 that clients joining with nothing ask
 * for: in a join storm hundreds ask at once, and ws queues the same buffer on every socket, so the
 * server holds the room's full state once instead of once per joiner (25 MiB each for a
 * 100,000-message room). `invalidate` on every change; a quiet spell of `keepMs` drops it too,
 * so an idle room does not hold it.
 */
export class SharedReply {
  readonly #keepMs: number;
  #reply: Uint8Array | null = null;
  #timer: NodeJS.Timeout | undefined;

  constructor(keepMs: number) {
    this.#keepMs = keepMs;
  }

  /** The shared reply, encoding it first when there is none; a throwing `encode` caches nothing. */
  get(encode: () => Uint8Array): Uint8Array {
    this.#reply ??= encode();
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => (this.#reply = null), this.#keepMs);
    this.#timer.unref();
    return this.#reply;
  }

  invalidate(): void {
    this.#reply = null;
  }

  close(): void {
    clearTimeout(this.#timer);
    this.#reply = null;
  }
}
