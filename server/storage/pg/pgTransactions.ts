import pg from 'pg';
import { inTransaction } from './openPostgres.ts';
import type { Queryable } from './pgRepos.ts';

/** What follows BEGIN for the repositories whose writes must be serializable (see PgAttachmentRepo). */
export const SERIALIZABLE = 'ISOLATION LEVEL SERIALIZABLE';

/** SQLSTATEs after which a transaction may simply run again: serialization_failure, deadlock_detected. */
const RETRYABLE_STATES = new Set(['40001', '40P01']);
/** Runs of one transaction at the most; the last one's failure is thrown. */
const MAX_RUNS = 10;

/** Whether PostgreSQL aborted the transaction only because of a concurrent one (running it again may succeed). */
export const isRetryable = (error: unknown): boolean => error instanceof pg.DatabaseError && error.code !== undefined && RETRYABLE_STATES.has(error.code);

/**
 * A transaction of its own on a connection of `pool` (`mode` follows BEGIN), run again from the
 * start when PostgreSQL aborts it for a serialization failure or a deadlock, after a random pause
 * that grows with each run (so two nodes colliding do not collide again in step). `fn` may
 * therefore run more than once: it must do nothing but its queries on the client it is given.
 */
async function retried<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>, mode: string): Promise<T> {
  for (let run = 1; ; run++) {
    try {
      return await inTransaction(pool, fn, mode);
    } catch (error) {
      if (run >= MAX_RUNS || !isRetryable(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 2 ** run));
    }
  }
}

/**
 * Several statements as one unit, where the SQLite repository runs them without a transaction of
 * its own (a synchronous method is one unit within its process): on the pool, a transaction of
 * their own (retried, as above); on a connection inside the caller's transaction, simply part of
 * it (its isolation level applies, and a failure aborts it whole).
 */
export function atomically<T>(db: Queryable, fn: (client: Queryable) => Promise<T>, mode = ''): Promise<T> {
  return db instanceof pg.Pool ? retried(db, fn, mode) : fn(db);
}

/**
 * What better-sqlite3's `db.transaction(fn)` is to the SQLite repositories: on the pool, a
 * transaction of its own (retried, as above); inside the caller's transaction, a savepoint, so
 * that `fn` throwing undoes its own writes only and the caller may go on (SQLite nests the same
 * way). `mode` applies to a transaction of its own only.
 */
export function transaction<T>(db: Queryable, fn: (client: pg.PoolClient) => Promise<T>, mode = ''): Promise<T> {
  return db instanceof pg.Pool ? retried(db, fn, mode) : inSavepoint(db, fn);
}

async function inSavepoint<T>(client: pg.PoolClient, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  // Savepoints of one name stack: RELEASE and ROLLBACK TO name the innermost one.
  await client.query('SAVEPOINT parley_nested');
  try {
    const result = await fn(client);
    await client.query('RELEASE SAVEPOINT parley_nested');
    return result;
  } catch (error) {
    try {
      await client.query('ROLLBACK TO SAVEPOINT parley_nested');
      await client.query('RELEASE SAVEPOINT parley_nested');
    } catch {
      // The connection failed: the caller's transaction is lost, and its own rollback reports it.
    }
    throw error;
  }
}

/** A LIMIT parameter as SQLite reads it: a negative one means no limit (PostgreSQL refuses it; NULL is none). */
export const sqlLimit = (limit: number): number | null => (limit < 0 ? null : limit);
