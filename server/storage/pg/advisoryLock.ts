import type pg from 'pg';

/** A lock every node sharing the database takes in turn: `fn` runs while this node holds it. */
export type ClusterLock = <R>(fn: () => Promise<R>) => Promise<R>;

/**
 * A PostgreSQL session advisory lock on `key`, held on one pooled connection for as long as `fn`
 * runs (which may use other connections, and do other I/O: a blob's unlink). Across nodes it
 * orders what an in-process lock orders within one (Attachments: an upload's last check and
 * insert against garbage collection's check and blob deletion).
 */
export function advisoryLock(pool: pg.Pool, key: number): ClusterLock {
  return async (fn) => {
    const client = await pool.connect();
    // Only a failed lock or unlock query spoils the connection (it goes, and a held lock with its
    // session); a failure of `fn` passes through and the connection returns to the pool.
    const asError = (err: unknown): Error => (err instanceof Error ? err : new Error(String(err)));
    try {
      await client.query('SELECT pg_advisory_lock($1)', [key]);
    } catch (err) {
      client.release(asError(err));
      throw err;
    }
    let broken: Error | undefined;
    try {
      return await fn();
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [key]).catch((err: unknown) => {
        broken = asError(err);
      });
      client.release(broken);
    }
  };
}
