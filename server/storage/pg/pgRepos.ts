import type pg from 'pg';

/**
 * What a PostgreSQL repository runs its statements on: the pool, or one connection inside a
 * transaction (PgDirectory.transaction binds repositories to it).
 */
export type Queryable = pg.Pool | pg.PoolClient;

/**
 * Methods that run a callback in one transaction. SQLite's callback calls the repository itself
 * (one connection serves everything); on PostgreSQL it must be handed the repository bound to the
 * transaction's connection, or its queries would run outside the transaction. AsyncApi gives these
 * methods that shape, so that a caller written against it cannot make the mistake.
 */
type TransactionMethod = 'transaction' | 'batch';

/**
 * The public methods of a synchronous (SQLite) repository, each returning a promise: what its
 * PostgreSQL counterpart implements (`class PgUserRepo implements AsyncApi<UserRepo>`), so the two
 * cannot drift apart, and one contract suite, awaiting every call, runs on both. The transaction
 * methods hand their callback the repository bound to the transaction (TransactionMethod).
 */
export type AsyncApi<T> = {
  [K in keyof T as T[K] extends (...args: never[]) => unknown ? (K extends TransactionMethod ? never : K) : never]: T[K] extends (...args: infer A) => infer R
    ? (...args: A) => Promise<Awaited<R>>
    : never;
} & { [K in Extract<keyof T, TransactionMethod>]: <R>(fn: (tx: AsyncApi<T>) => Promise<R>) => Promise<R> };

/** `$1, $2, …` for `count` parameters from `from` (pg numbers parameters; SQLite's `?` does not). */
export const params = (count: number, from = 1): string => Array.from({ length: count }, (_, i) => `$${from + i}`).join(', ');
