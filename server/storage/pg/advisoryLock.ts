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
    let broken: Error | undefined;
    try {
      await client.query('SELECT pg_advisory_lock($1)', [key]);
      try {
        return await fn();
      } finally {
        await client.query('SELECT pg_advisory_unlock($1)', [key]).catch((err: unknown) => {
          // The session ends with the connection, and the lock with it.
          broken = err instanceof Error ? err : new Error(String(err));
        });
      }
    } catch (err) {
      broken ??= err instanceof Error ? err : undefined;
      throw err;
    } finally {
      client.release(broken);
    }
  };
}
