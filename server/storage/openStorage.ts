import type pg from 'pg';
import type { Logger } from '../log.ts';
import type { AsyncApi } from './AsyncApi.ts';
import { Directory } from './Directory.ts';
import { type DirectoryApi, SqliteDirectory } from './DirectoryApi.ts';
import { type Db, openDatabase } from './openDatabase.ts';
import { OutboxRepo } from './OutboxRepo.ts';
import { createPool, migrate } from './pg/openPostgres.ts';
import { PgDirectory } from './pg/PgDirectory.ts';
import { PgOutboxRepo } from './pg/PgOutboxRepo.ts';
import { PgUpdateStore } from './pg/PgUpdateStore.ts';
import { SqliteAsync, sqliteAsync } from './SqliteAsync.ts';
import { SqliteUpdateStore } from './SqliteUpdateStore.ts';
import { StorageWorker } from './StorageWorker.ts';

/** What both backends give the server. */
interface StorageCommon {
  /** Users, rooms, members, presence, feed, mentions, attachments (asynchronous on either backend). */
  readonly directory: DirectoryApi;
  /** The notification webhook's outbox. */
  readonly outbox: AsyncApi<OutboxRepo>;
  /** Reads and merges stored documents off the main thread (compaction, big loads, stored segments). */
  readonly worker: StorageWorker;
  /** Resolves once the storage can be used (PostgreSQL: its schema migrated); rejects if it cannot. */
  readonly ready: Promise<void>;
  /** Stops the worker and closes the database (after everything was committed). */
  close(): Promise<void>;
}

/** The embedded default: one SQLite file, written by this process alone. */
export interface SqliteStorage extends StorageCommon {
  readonly kind: 'sqlite';
  readonly updates: SqliteUpdateStore;
  readonly db: Db;
  /** The synchronous directory underneath `directory` (tools and tests). */
  readonly sync: Directory;
}

/** PostgreSQL (PARLEY_DATABASE_URL): shared by every node of a cluster. */
export interface PostgresStorage extends StorageCommon {
  readonly kind: 'postgres';
  readonly updates: PgUpdateStore;
  readonly pool: pg.Pool;
}

export type ParleyStorage = SqliteStorage | PostgresStorage;

export interface StorageSettings {
  /** The SQLite file (used when `databaseUrl` is null). */
  readonly dbFile: string;
  readonly sqliteSynchronous: 'NORMAL' | 'FULL';
  /** PostgreSQL's URL; null: SQLite. */
  readonly databaseUrl: string | null;
  /** How long a PostgreSQL statement may wait before it fails (createPool's default when absent). */
  readonly databaseTimeoutMs?: number;
}

/**
 * Opens the server's storage: the SQLite file (created if missing) or a pool on PostgreSQL, whose
 * schema is brought up to date in the background (`ready`; a request before it waits for its
 * connection like any other). The storage worker starts on its first request.
 */
export function openStorage(settings: StorageSettings, logger: Logger): ParleyStorage {
  if (settings.databaseUrl !== null) {
    const url = settings.databaseUrl;
    const pool = createPool(url, {
      onIdleError: (err) => logger.warn({ err }, 'postgres: an idle connection failed'),
      ...(settings.databaseTimeoutMs === undefined ? {} : { queryTimeoutMs: settings.databaseTimeoutMs }),
    });
    // The worker's own pool keeps the same statement limit (PARLEY_DATABASE_TIMEOUT_MS).
    const worker = new StorageWorker({ backend: 'postgres', url, ...(settings.databaseTimeoutMs === undefined ? {} : { queryTimeoutMs: settings.databaseTimeoutMs }) }, logger);
    return {
      kind: 'postgres',
      pool,
      directory: new PgDirectory(pool),
      updates: new PgUpdateStore(pool),
      outbox: new PgOutboxRepo(pool),
      worker,
      ready: migrate(pool),
      async close() {
        await worker.close();
        await pool.end();
      },
    };
  }
  const db = openDatabase(settings.dbFile, { synchronous: settings.sqliteSynchronous });
  const sync = new Directory(db);
  // One SqliteAsync per connection: every asynchronous caller of this database queues its transactions on it.
  const sqlite = new SqliteAsync(db);
  const worker = new StorageWorker({ backend: 'sqlite', dbFile: settings.dbFile, synchronous: settings.sqliteSynchronous }, logger);
  return {
    kind: 'sqlite',
    db,
    sync,
    directory: new SqliteDirectory(sync, sqlite),
    updates: new SqliteUpdateStore(db),
    outbox: sqliteAsync(new OutboxRepo(db), sqlite),
    worker,
    ready: Promise.resolve(),
    async close() {
      await worker.close();
      db.close();
    },
  };
}
