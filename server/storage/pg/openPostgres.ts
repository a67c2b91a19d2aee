import pg from 'pg';

/**
 * The PostgreSQL schema, applied in order and recorded in `parley_schema`. Append new steps; never
 * edit a step that has shipped. Document names are compared byte by byte (COLLATE "C"), as in
 * SQLite, so a room's segments (`room:0`, `room:1`, ...) are the key range from `room:` to `room;`
 * whatever the database's locale.
 */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE room_updates (
    seq      BIGSERIAL PRIMARY KEY,
    room_id  TEXT COLLATE "C" NOT NULL,
    data     BYTEA NOT NULL
  );
  CREATE INDEX room_updates_by_room ON room_updates(room_id, seq);
  CREATE TABLE room_snapshots (
    room_id     TEXT COLLATE "C" PRIMARY KEY,
    data        BYTEA NOT NULL,
    up_to_seq   BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
  );
  CREATE TABLE client_ids (
    room_id    TEXT COLLATE "C" NOT NULL,
    client_id  BIGINT NOT NULL,
    user_id    TEXT NOT NULL,
    PRIMARY KEY (room_id, client_id)
  );
  CREATE TABLE doc_fences (
    doc_name  TEXT COLLATE "C" PRIMARY KEY,
    fence     BIGINT NOT NULL
  );
  `,
];

/** Every Parley node migrating the same database at start-up takes this lock first (pg_advisory_xact_lock). */
const MIGRATION_LOCK = 0x7061726c; // 'parl'

export interface PostgresOptions {
  /** Connections in the pool (pg's `max`). */
  readonly maxConnections?: number;
  /** A query with no answer after this long fails (a paused or unreachable server): the caller refuses and retries. */
  readonly queryTimeoutMs?: number;
  /** An idle connection failed (the server restarted): reported, never thrown from an event. */
  readonly onIdleError?: (error: Error) => void;
}

/** Opens a pool on `url` (`postgres://…`) and brings the schema up to date. */
export async function openPostgres(url: string, options: PostgresOptions = {}): Promise<pg.Pool> {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.maxConnections ?? 10,
    connectionTimeoutMillis: options.queryTimeoutMs ?? 10_000,
    query_timeout: options.queryTimeoutMs ?? 10_000,
  });
  pool.on('error', (error) => options.onIdleError?.(error));
  try {
    await inTransaction(pool, async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      await client.query('CREATE TABLE IF NOT EXISTS parley_schema (version INTEGER NOT NULL)');
      const { rows } = await client.query<{ version: number }>('SELECT version FROM parley_schema');
      const current = rows[0]?.version ?? 0;
      for (let version = current; version < MIGRATIONS.length; version++) await client.query(MIGRATIONS[version] ?? '');
      if (rows.length === 0) await client.query('INSERT INTO parley_schema (version) VALUES ($1)', [MIGRATIONS.length]);
      else await client.query('UPDATE parley_schema SET version = $1', [MIGRATIONS.length]);
    });
  } catch (error) {
    await pool.end();
    throw error;
  }
  return pool;
}

/**
 * Runs `fn` in one transaction on one connection of `pool`: COMMIT when it resolves, ROLLBACK when
 * it throws (the error is rethrown). `mode` is what follows BEGIN, e.g. an isolation level.
 */
export async function inTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>, mode = ''): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query(mode ? `BEGIN ${mode}` : 'BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    try {
      await client.query('ROLLBACK');
    } catch (rollbackError) {
      // The connection itself failed: it must not go back to the pool.
      broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
    }
    throw error;
  } finally {
    client.release(broken);
  }
}
