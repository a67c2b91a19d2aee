import type { Db } from './openDatabase.ts';

/**
 * Runs `commit` (which commits one transaction) with `synchronous = NORMAL` for it alone: in WAL
 * mode the transaction is in the WAL file, visible to every reader and safe from a process crash,
 * but not fsynced. For derived data (the search index), or for a caller that fsyncs the WAL itself
 * afterwards off the main thread (WalSync) before it tells anyone the data is durable.
 */
export function withoutFsync<T>(db: Db, commit: () => T): T {
  const before = db.pragma('synchronous', { simple: true });
  if (before === 1) return commit();
  db.pragma('synchronous = NORMAL');
  try {
    return commit();
  } finally {
    db.pragma(`synchronous = ${Number(before)}`);
  }
}
