import type pg from 'pg';

/**
 * What a PostgreSQL repository runs its statements on: the pool, or one connection inside a
 * transaction (PgDirectory.transaction binds repositories to it).
 */
export type Queryable = pg.Pool | pg.PoolClient;

/**
 * The public methods of a synchronous (SQLite) repository, each returning a promise: what its
 * PostgreSQL counterpart implements (`class PgUserRepo implements AsyncApi<UserRepo>`), so the two
 * cannot drift apart, and one contract suite, awaiting every call, runs on both.
 */
export type AsyncApi<T> = {
  [K in keyof T as T[K] extends (...args: never[]) => unknown ? K : never]: T[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never;
};

/** `$1, $2, …` for `count` parameters from `from` (pg numbers parameters; SQLite's `?` does not). */
export const params = (count: number, from = 1): string => Array.from({ length: count }, (_, i) => `$${from + i}`).join(', ');
