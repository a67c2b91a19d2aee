import { AsyncLocalStorage } from 'node:async_hooks';
import type { Db } from './openDatabase.ts';
import type { AsyncApi, TransactionMethod } from './AsyncApi.ts';

/** Thrown when a transaction's function waited for something other than the database (see SqliteAsync.transaction). */
export class HeldTransactionError extends Error {
  constructor() {
    super('a SQLite transaction was held across an event-loop turn: its function must await only the repositories it is given');
    this.name = 'HeldTransactionError';
  }
}

/**
 * The asynchronous face of one SQLite connection, which the server's callers share with
 * PostgreSQL (AsyncApi): every call runs synchronously and resolves at once, and `transaction`
 * runs an asynchronous function between BEGIN IMMEDIATE and COMMIT.
 *
 * One connection serves the whole process, so an open transaction holds every write made on it,
 * whoever makes it. Two rules keep others' writes out of it:
 * - calls through this object from another asynchronous context (AsyncLocalStorage) while a
 *   transaction is open wait until it ends, and transactions run one after another;
 * - the function must settle without the event loop turning (it awaits only repositories, which
 *   resolve at once), because the synchronous writers (the commit path) run in later turns, and a
 *   rollback would undo their writes too. A transaction that is still open when the loop turns
 *   is rolled back and fails with HeldTransactionError, so a violation shows in the first test that
 *   makes it rather than as a lost write in production.
 */
export class SqliteAsync {
  readonly #db: Db;
  readonly #context = new AsyncLocalStorage<number>();
  /** The open transaction's id, or null. */
  #open: number | null = null;
  #nextId = 1;
  /** Settles when the transaction last queued has ended. */
  #tail: Promise<void> = Promise.resolve();

  constructor(db: Db) {
    this.#db = db;
  }

  /** Runs `fn` now, or, when another context's transaction is open, once it has ended. */
  call<T>(fn: () => T): Promise<T> {
    if (this.#open !== null && this.#context.getStore() !== this.#open) return this.#tail.then(() => this.call(fn));
    try {
      return Promise.resolve(fn());
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Runs `fn` in one transaction: COMMIT when it resolves, ROLLBACK when it throws (rethrown).
   * Called inside a transaction (in its context), a savepoint, so that `fn` throwing undoes its own
   * writes only, as better-sqlite3's nested transactions do.
   */
  transaction<R>(fn: () => Promise<R>): Promise<R> {
    if (this.#open !== null && this.#context.getStore() === this.#open) return this.#savepoint(fn);
    const run = this.#tail.then(() => this.#run(fn));
    this.#tail = run.then(
      () => {},
      () => {},
    );
    return run;
  }

  async #run<R>(fn: () => Promise<R>): Promise<R> {
    const id = this.#nextId++;
    let turned = false;
    const guard = setImmediate(() => (turned = true));
    this.#db.exec('BEGIN IMMEDIATE');
    this.#open = id;
    try {
      const result = await this.#context.run(id, fn);
      if (turned) throw new HeldTransactionError();
      this.#db.exec('COMMIT');
      return result;
    } catch (error) {
      if (this.#db.inTransaction) this.#db.exec('ROLLBACK');
      throw turned && !(error instanceof HeldTransactionError) ? new HeldTransactionError() : error;
    } finally {
      this.#open = null;
      clearImmediate(guard);
    }
  }

  async #savepoint<R>(fn: () => Promise<R>): Promise<R> {
    this.#db.exec('SAVEPOINT parley_async');
    try {
      const result = await fn();
      this.#db.exec('RELEASE parley_async');
      return result;
    } catch (error) {
      this.#db.exec('ROLLBACK TO parley_async');
      this.#db.exec('RELEASE parley_async');
      throw error;
    }
  }
}

/** What runs (and is awaited) before some of a repository's methods: the projections' freshening (SqliteDirectory). */
export interface BeforeReads {
  readonly names: readonly string[];
  run(args: readonly unknown[]): void | Promise<void>;
}

const TRANSACTION_METHODS: ReadonlySet<string> = new Set<TransactionMethod>(['transaction', 'batch']);

/**
 * A synchronous SQLite repository as AsyncApi<T>: each public method of its class, run through
 * `sqlite` (so it waits for another context's open transaction), and its transaction methods
 * (`transaction`, `batch`) as SqliteAsync transactions handed this same object. `before.run` is
 * awaited before each method `before` names.
 */
export function sqliteAsync<T extends object>(repo: T, sqlite: SqliteAsync, before?: BeforeReads): AsyncApi<T> {
  const api: Record<string, unknown> = {};
  const awaited = new Set<string>(before?.names);
  for (const name of methodNames(repo)) {
    // Looked up at each call, not now, so that a method replaced later (a test's spy) is the one run.
    const call = (args: unknown[]): Promise<unknown> => sqlite.call(() => Reflect.apply(Reflect.get(repo, name) as (...a: unknown[]) => unknown, repo, args));
    api[name] = TRANSACTION_METHODS.has(name)
      ? (fn: (tx: unknown) => Promise<unknown>) => sqlite.transaction(() => fn(api))
      : before && awaited.has(name)
        ? async (...args: unknown[]) => {
            await before.run(args);
            return call(args);
          }
        : (...args: unknown[]) => call(args);
  }
  // The mapped type cannot be built key by key; the loop above gives it every method of T.
  return api as AsyncApi<T>;
}

/** The public methods of `obj`'s class and its ancestors (not Object's). */
function methodNames(obj: object): string[] {
  const names = new Set<string>();
  for (let proto = Object.getPrototypeOf(obj) as object | null; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto) as object | null) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      const descriptor = Object.getOwnPropertyDescriptor(proto, name);
      if (name !== 'constructor' && typeof descriptor?.value === 'function') names.add(name);
    }
  }
  return [...names];
}
