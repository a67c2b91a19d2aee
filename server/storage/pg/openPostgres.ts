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
  CREATE TABLE room_fences (
    room_id  TEXT COLLATE "C" PRIMARY KEY,
    fence    BIGINT NOT NULL
  );
  `,
  // The directory and what hangs off it, as in the SQLite file (server/storage/openDatabase.ts),
  // with the same conventions so the same row schemas (server/storage/sqlRows.ts) read both:
  // timestamps are BIGINT Unix milliseconds (read as numbers, see INT8_AS_NUMBER), booleans
  // SMALLINT 0/1, JSON as TEXT. Where SQLite orders ties by rowid, \`seq\` (BIGSERIAL) does.
  `
  CREATE TABLE users (
    id          TEXT PRIMARY KEY,
    name        TEXT,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
  );
  CREATE INDEX users_by_name ON users(name);
  CREATE TABLE rooms (
    id              TEXT PRIMARY KEY,
    name            TEXT,
    type            TEXT NOT NULL CHECK (type IN ('direct', 'group', 'channel')),
    company_id      TEXT,
    is_active       SMALLINT NOT NULL DEFAULT 1,
    extra_metadata  TEXT NOT NULL DEFAULT '{}',
    direct_key      TEXT UNIQUE,
    last_message    TEXT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
  );
  CREATE TABLE members (
    id             TEXT PRIMARY KEY,
    seq            BIGSERIAL,
    room_id        TEXT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    user_id        TEXT NOT NULL REFERENCES users(id),
    role           TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    is_active      SMALLINT NOT NULL DEFAULT 1,
    last_read_at   BIGINT,
    unread_count   INTEGER NOT NULL DEFAULT 0,
    mention_count  INTEGER NOT NULL DEFAULT 0,
    muted          SMALLINT NOT NULL DEFAULT 0,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    UNIQUE (room_id, user_id)
  );
  CREATE INDEX members_by_user ON members(user_id, is_active);
  CREATE TABLE presence (
    user_id       TEXT PRIMARY KEY REFERENCES users(id),
    last_seen_at  BIGINT,
    status        TEXT
  );
  CREATE TABLE user_feed (
    user_id  TEXT NOT NULL,
    seq      BIGINT NOT NULL,
    room_id  TEXT NOT NULL,
    members  SMALLINT NOT NULL,
    at       BIGINT NOT NULL,
    PRIMARY KEY (user_id, seq)
  );
  CREATE TABLE notification_outbox (
    id               TEXT PRIMARY KEY,
    message_id       TEXT NOT NULL,
    user_id          TEXT NOT NULL,
    body             TEXT NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT NOT NULL,
    created_at       BIGINT NOT NULL,
    last_error       TEXT,
    UNIQUE (message_id, user_id)
  );
  CREATE INDEX notification_outbox_due ON notification_outbox(next_attempt_at);
  CREATE TABLE segment_mentions (
    room_id     TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    message_id  TEXT NOT NULL,
    segment     INTEGER NOT NULL,
    PRIMARY KEY (room_id, user_id, message_id)
  );
  CREATE INDEX segment_mentions_by_segment ON segment_mentions(room_id, segment);
  CREATE TABLE attachments (
    id              TEXT PRIMARY KEY,
    room_id         TEXT NOT NULL,
    uploader_id     TEXT NOT NULL,
    blob_key        TEXT NOT NULL,
    name            TEXT NOT NULL,
    mime_type       TEXT NOT NULL,
    size            BIGINT NOT NULL,
    width           INTEGER,
    height          INTEGER,
    thumbnail_key   TEXT,
    thumbnail_type  TEXT,
    created_at      BIGINT NOT NULL,
    referenced_at   BIGINT,
    released_at     BIGINT
  );
  CREATE INDEX attachments_by_uploader ON attachments(uploader_id);
  CREATE INDEX attachments_by_blob ON attachments(blob_key);
  CREATE INDEX attachments_by_thumbnail ON attachments(thumbnail_key) WHERE thumbnail_key IS NOT NULL;
  CREATE INDEX attachments_never_referenced ON attachments(created_at) WHERE referenced_at IS NULL;
  CREATE INDEX attachments_released ON attachments(released_at) WHERE released_at IS NOT NULL;
  CREATE TABLE attachment_refs (
    attachment_id  TEXT NOT NULL,
    message_id     TEXT NOT NULL,
    room_id        TEXT NOT NULL,
    doc_name       TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (attachment_id, message_id)
  );
  CREATE INDEX attachment_refs_by_message ON attachment_refs(message_id);
  CREATE INDEX attachment_refs_by_doc ON attachment_refs(doc_name);
  CREATE TABLE attachment_tracked (
    doc_name      TEXT COLLATE "C" PRIMARY KEY,
    state_vector  BYTEA NOT NULL
  );
  `,
  // What the feed, mention and outbox repositories need beyond SQLite's columns (f/pg-repos; a
  // step of its own, so that another appended beside it merges as two steps).
  // user_feed_heads: each user's newest feed sequence number, the row PgFeedRepo.append locks and
  // increments, so that nodes appending for one user at once take turns (see PgFeedRepo).
  // segment_mentions.message_id compares byte by byte, as SQLite's text does (countAfter reads
  // the mentions after a message id), whatever the database's locale.
  // notification_outbox.seq: SQLite breaks ties of the due order by rowid (insertion order).
  `
  CREATE TABLE user_feed_heads (
    user_id   TEXT PRIMARY KEY,
    last_seq  BIGINT NOT NULL
  );
  INSERT INTO user_feed_heads (user_id, last_seq) SELECT user_id, max(seq) FROM user_feed GROUP BY user_id;
  ALTER TABLE segment_mentions ALTER COLUMN message_id TYPE TEXT COLLATE "C";
  ALTER TABLE notification_outbox ADD COLUMN seq BIGSERIAL;
  `,
  // What the directory repositories need beyond SQLite's indexes (f/pg-dir). The user search
  // (PgUserRepo.searchByNamePrefix) compares names as SQLite's LIKE and NOCASE do, A-Z folded and
  // then byte by byte: \`lower()\` under COLLATE "C" folds A-Z alone, whatever the database's locale,
  // and the index is in that collation, so a name prefix is a range of it (SQLite scans the table).
  `
  CREATE INDEX users_by_folded_name ON users (lower(name COLLATE "C"));
  `,
  // The message search index (f/pg-search; docs/search.md, "On PostgreSQL"), where SQLite has its
  // own file (server/search/openSearchDatabase.ts). One row per message, keyed by its id, naming
  // the document it was indexed from (SQLite needs search_rows beside FTS5 for that). \`words\` is
  // the tsvector of the message's folded words, built by Parley's tokenizer
  // (server/search/searchWords.ts), not by a text search configuration, so that both backends
  // split and fold alike; GIN finds the matches. \`id\` is the order rows were written (a rewrite
  // takes a new one): the ranking window is the newest matches by it, as by FTS5's rowid.
  `
  CREATE TABLE message_search (
    id          BIGSERIAL PRIMARY KEY,
    message_id  TEXT NOT NULL UNIQUE,
    doc_name    TEXT COLLATE "C" NOT NULL,
    room_id     TEXT NOT NULL,
    sender_id   TEXT,
    created_at  BIGINT NOT NULL,
    content     TEXT NOT NULL,
    words       TSVECTOR NOT NULL
  );
  CREATE INDEX message_search_words ON message_search USING GIN (words);
  CREATE INDEX message_search_by_doc ON message_search (doc_name);
  CREATE TABLE search_indexed (
    doc_name      TEXT COLLATE "C" PRIMARY KEY,
    state_vector  BYTEA NOT NULL
  );
  `,
  // When a commit last named the upload (PgUpdateStore.append): garbage collection keeps it a while after.
  `
  ALTER TABLE attachments ADD COLUMN named_at BIGINT;
  `,
];

/**
 * BIGINT (int8) columns read as numbers rather than pg's default strings: they hold Unix
 * milliseconds, sequence numbers and fencing tokens, all far below 2^53, and the row schemas
 * shared with SQLite expect numbers. Set per pool, never on pg's global type table.
 */
const INT8_OID = 20;
const INT8_AS_NUMBER = {
  getTypeParser: ((oid: number, format?: string) => (oid === INT8_OID ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format as 'text'))) as typeof pg.types.getTypeParser,
};

/** Every Parley node migrating the same database at start-up takes this lock first (pg_advisory_xact_lock). */
const MIGRATION_LOCK = 0x7061726c; // 'parl'

export interface PostgresOptions {
  /** Connections in the pool (pg's `max`). */
  readonly maxConnections?: number;
  /** A query with no answer after this long fails (a paused or unreachable server): the caller refuses and retries. */
  readonly queryTimeoutMs?: number;
  /** An idle connection failed (the server restarted): reported, never thrown from an event. */
  readonly onIdleError?: (error: Error) => void;
  /** Bring the schema up to date (default true); a reader that never writes (the storage worker) skips it. */
  readonly migrate?: boolean;
}

/** A pool on `url` (`postgres://…`), BIGINT read as numbers; nothing is queried yet (see migrate). */
export function createPool(url: string, options: PostgresOptions = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.maxConnections ?? 10,
    connectionTimeoutMillis: options.queryTimeoutMs ?? 10_000,
    query_timeout: options.queryTimeoutMs ?? 10_000,
    types: INT8_AS_NUMBER,
  });
  pool.on('error', (error) => options.onIdleError?.(error));
  return pool;
}

/** Brings the schema up to date, under an advisory lock (nodes starting together take turns). */
export async function migrate(pool: pg.Pool): Promise<void> {
  await inTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query('CREATE TABLE IF NOT EXISTS parley_schema (version INTEGER NOT NULL)');
    const { rows } = await client.query<{ version: number }>('SELECT version FROM parley_schema');
    const current = rows[0]?.version ?? 0;
    for (let version = current; version < MIGRATIONS.length; version++) await client.query(MIGRATIONS[version] ?? '');
    if (rows.length === 0) await client.query('INSERT INTO parley_schema (version) VALUES ($1)', [MIGRATIONS.length]);
    else await client.query('UPDATE parley_schema SET version = $1', [MIGRATIONS.length]);
  });
}

/** Opens a pool on `url` (`postgres://…`) and brings the schema up to date (unless `migrate: false`). */
export async function openPostgres(url: string, options: PostgresOptions = {}): Promise<pg.Pool> {
  const pool = createPool(url, options);
  if (options.migrate === false) return pool;
  try {
    await migrate(pool);
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
