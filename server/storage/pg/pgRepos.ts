import type pg from 'pg';

/**
 * What a PostgreSQL repository runs its statements on: the pool, or one connection inside a
 * transaction (PgDirectory.transaction binds repositories to it).
 */
export type Queryable = pg.Pool | pg.PoolClient;

/** `$1, $2, …` for `count` parameters from `from` (pg numbers parameters; SQLite's `?` does not). */
export const params = (count: number, from = 1): string => Array.from({ length: count }, (_, i) => `$${from + i}`).join(', ');
