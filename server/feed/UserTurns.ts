/**
 * Per-user turns: `run(users, fn)` starts `fn` once every operation started earlier on any of
 * those users has ended, and the operations started later on any of them wait for it. An operation
 * takes all its users' turns at once, in the synchronous call, so two operations never wait for
 * each other (no deadlock): the order is the order of the calls. Operations on users apart run at
 * once.
 */
export class UserTurns {
  /** Settles when the operation queued last on the user has ended; gone once nothing is queued. */
  readonly #tails = new Map<string, Promise<void>>();

  run<T>(users: Iterable<string>, fn: () => Promise<T>): Promise<T> {
    const keys = [...new Set(users)];
    const before = keys.flatMap((key) => this.#tails.get(key) ?? []);
    const result = (before.length === 0 ? Promise.resolve() : Promise.all(before)).then(fn);
    const ended = result.then(
      () => {},
      () => {},
    );
    for (const key of keys) this.#tails.set(key, ended);
    void ended.then(() => {
      for (const key of keys) if (this.#tails.get(key) === ended) this.#tails.delete(key);
    });
    return result;
  }
}
