import path from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { openDatabase, type Db } from '../../server/storage/openDatabase.ts';
import { SqliteUpdateStore } from '../../server/storage/SqliteUpdateStore.ts';
import { makeTempDir } from './tempDir.ts';

/**
 * A fresh SQLite file and update store for each test of the calling file (opened before each,
 * closed and removed after each); read them through the returned getters.
 */
export function useTempUpdateStore(): { readonly db: Db; readonly store: SqliteUpdateStore } {
  let current: { db: Db; store: SqliteUpdateStore; remove: () => void } | null = null;
  beforeEach(() => {
    const tmp = makeTempDir();
    const db = openDatabase(path.join(tmp.dir, 'p.db'));
    current = { db, store: new SqliteUpdateStore(db), remove: tmp.remove };
  });
  afterEach(() => {
    current?.db.close();
    current?.remove();
    current = null;
  });
  const open = (): { db: Db; store: SqliteUpdateStore } => {
    if (!current) throw new Error('the temporary update store is open only inside a test');
    return current;
  };
  return {
    get db() {
      return open().db;
    },
    get store() {
      return open().store;
    },
  };
}
