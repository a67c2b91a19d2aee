import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';

export type Db = Database.Database;

/**
 * Schema migrations, applied in order and recorded in `PRAGMA user_version`.
 * Append new steps; never edit a step that has shipped.
 */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE users (
    id          TEXT PRIMARY KEY,
    -- NULL until the user first authenticates (members may be added before that).
    name        TEXT,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
  );
  CREATE TABLE rooms (
    id              TEXT PRIMARY KEY,
    name            TEXT,
    type            TEXT NOT NULL CHECK (type IN ('direct', 'group', 'channel')),
    company_id      TEXT,
    is_active       INTEGER NOT NULL DEFAULT 1,
    extra_metadata  TEXT NOT NULL DEFAULT '{}',
    -- 'userA|userB' (sorted) for direct rooms: one direct room per pair.
    direct_key      TEXT UNIQUE,
    -- ChatMessage JSON of the newest message, kept up to date by the sync layer.
    last_message    TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
  );
  CREATE TABLE members (
    id            TEXT PRIMARY KEY,
    room_id       TEXT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    user_id       TEXT NOT NULL REFERENCES users(id),
    role          TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    is_active     INTEGER NOT NULL DEFAULT 1,
    last_read_at  INTEGER,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    UNIQUE (room_id, user_id)
  );
  CREATE INDEX members_by_user ON members(user_id, is_active);
  CREATE TABLE presence (
    user_id       TEXT PRIMARY KEY REFERENCES users(id),
    last_seen_at  INTEGER,
    status        TEXT
  );
  -- Append-only Yjs update log (V1 encoding), one row per committed update.
  CREATE TABLE room_updates (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    room_id  TEXT NOT NULL,
    data     BLOB NOT NULL
  );
  CREATE INDEX room_updates_by_room ON room_updates(room_id, seq);
  -- Compacted state: every update of the room with seq <= up_to_seq merged into one.
  CREATE TABLE room_snapshots (
    room_id     TEXT PRIMARY KEY,
    data        BLOB NOT NULL,
    up_to_seq   INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
  );
  -- The user who first wrote to a room with a Yjs client id owns it.
  CREATE TABLE client_ids (
    room_id    TEXT NOT NULL,
    client_id  INTEGER NOT NULL,
    user_id    TEXT NOT NULL,
    PRIMARY KEY (room_id, client_id)
  ) WITHOUT ROWID;
  `,
  // Dev login and the user search look users up by name.
  `CREATE INDEX users_by_name ON users(name);`,
  // A large snapshot is written in chunks, each in its own short transaction, so that the
  // compaction worker never holds the write lock for longer than one chunk takes (the sync path's
  // commits wait for it synchronously). room_snapshots.generation names the room's chunked
  // snapshot; NULL means the snapshot is room_snapshots.data itself.
  `
  ALTER TABLE room_snapshots ADD COLUMN generation INTEGER;
  CREATE TABLE room_snapshot_chunks (
    room_id     TEXT NOT NULL,
    generation  INTEGER NOT NULL,
    idx         INTEGER NOT NULL,
    data        BLOB NOT NULL,
    PRIMARY KEY (room_id, generation, idx)
  );
  `,
  // The user feed's change log: "room R changed for user U" with a per-user sequence number.
  `
  CREATE TABLE user_feed (
    user_id     TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    room_id     TEXT NOT NULL,
    members     INTEGER NOT NULL,
    at          INTEGER NOT NULL,
    PRIMARY KEY (user_id, seq)
  ) WITHOUT ROWID;
  `,
  // Each member's unread count, kept by the summary writer: the room list needs no document.
  `ALTER TABLE members ADD COLUMN unread_count INTEGER NOT NULL DEFAULT 0;
  `,
  // Each member's mention count (unread messages that mention them), kept beside the unread count.
  `ALTER TABLE members ADD COLUMN mention_count INTEGER NOT NULL DEFAULT 0;
  `,
  // A member's own mute of a room, the same on every device (docs/notifications.md).
  `ALTER TABLE members ADD COLUMN muted INTEGER NOT NULL DEFAULT 0;
  `,
  // The notification webhook's durable outbox: a row per (message, recipient) until delivered or given up.
  `
  CREATE TABLE notification_outbox (
    id               TEXT PRIMARY KEY,
    message_id       TEXT NOT NULL,
    user_id          TEXT NOT NULL,
    body             TEXT NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL,
    created_at       INTEGER NOT NULL,
    last_error       TEXT,
    UNIQUE (message_id, user_id)
  );
  CREATE INDEX notification_outbox_due ON notification_outbox(next_attempt_at);
  `,
  // Mentions held in a segmented room's segments, so a mention count reaches every segment
  // without loading one (docs/protocol.md, "Large rooms: segments"): counted ones only (by
  // someone else, not deleted), as each segment was last seen loaded.
  `
  CREATE TABLE segment_mentions (
    room_id     TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    message_id  TEXT NOT NULL,
    segment     INTEGER NOT NULL,
    PRIMARY KEY (room_id, user_id, message_id)
  ) WITHOUT ROWID;
  CREATE INDEX segment_mentions_by_segment ON segment_mentions(room_id, segment);
  `,
  // Full-text search, as it first shipped in this file; dropped by a later step (the index has its
  // own file now: server/search/openSearchDatabase.ts).
  `
  CREATE VIRTUAL TABLE message_search USING fts5(
    content,
    room_id UNINDEXED,
    message_id UNINDEXED,
    sender_id UNINDEXED,
    created_at UNINDEXED,
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '2 3 4'
  );
  CREATE TABLE search_rows (
    message_id  TEXT PRIMARY KEY,
    row         INTEGER NOT NULL,
    doc_name    TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX search_rows_by_doc ON search_rows(doc_name);
  CREATE TABLE search_indexed (
    doc_name      TEXT PRIMARY KEY,
    state_vector  BLOB NOT NULL
  ) WITHOUT ROWID;
  `,
  // Attachments (docs/attachments.md). `attachments`: one row per upload; the bytes live in the
  // blob store under blob_key (the sha256, shared by uploads of the same bytes), the thumbnail
  // under thumbnail_key. referenced_at: when a committed message was first seen holding it (NULL:
  // never yet); released_at: when the last message holding it stopped (deleted), NULL while held.
  // `attachment_refs`: which messages hold which attachment, written off the sync path by the
  // AttachmentTracker (one row per attachment and message, with the document it was seen in, as
  // search_rows); `attachment_tracked`: each document's state vector as of when the rows last held
  // all of it (written by the tracker, or by garbage collection reading a stored document), so a
  // document loaded or read unchanged is not scanned again.
  `
  CREATE TABLE attachments (
    id             TEXT PRIMARY KEY,
    room_id        TEXT NOT NULL,
    uploader_id    TEXT NOT NULL,
    blob_key       TEXT NOT NULL,
    name           TEXT NOT NULL,
    mime_type      TEXT NOT NULL,
    size           INTEGER NOT NULL,
    width          INTEGER,
    height         INTEGER,
    thumbnail_key  TEXT,
    thumbnail_type TEXT,
    created_at     INTEGER NOT NULL,
    referenced_at  INTEGER,
    released_at    INTEGER
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
    doc_name       TEXT NOT NULL,
    PRIMARY KEY (attachment_id, message_id)
  ) WITHOUT ROWID;
  CREATE INDEX attachment_refs_by_message ON attachment_refs(message_id);
  CREATE INDEX attachment_refs_by_doc ON attachment_refs(doc_name);
  CREATE TABLE attachment_tracked (
    doc_name      TEXT PRIMARY KEY,
    state_vector  BLOB NOT NULL
  ) WITHOUT ROWID;
  `,
  // The search index moved to a file of its own, written by the search worker thread
  // (server/search/openSearchDatabase.ts, docs/search.md "Where the index lives"): an FTS5 merge
  // there never holds the event loop or this file's write lock. The new file starts empty and the
  // backfill indexes every stored document again.
  `
  DROP TABLE IF EXISTS message_search;
  DROP TABLE IF EXISTS search_rows;
  DROP TABLE IF EXISTS search_indexed;
  `,
];

/**
 * Opens (creating if needed) the SQLite file and brings its schema up to date.
 * WAL with synchronous=NORMAL unless asked otherwise: a committed transaction survives a process
 * crash (kill -9); the last transactions before a power loss or OS crash may be lost.
 * `synchronous: 'FULL'` survives power loss at the cost of an fsync per commit. The server opens
 * its database with PARLEY_SQLITE_SYNCHRONOUS, FULL by default; NORMAL here serves tools and tests.
 */
export function openDatabase(file: string, options: { synchronous?: 'NORMAL' | 'FULL' } = {}): Db {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${options.synchronous ?? 'NORMAL'}`);
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db, MIGRATIONS);
  return db;
}

/** Applies the steps of `migrations` the file has not had yet, each in its own transaction, recording them in `PRAGMA user_version`. */
export function migrate(db: Db, migrations: readonly string[]): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  for (let version = current; version < migrations.length; version++) {
    db.transaction(() => {
      db.exec(migrations[version] ?? '');
      db.pragma(`user_version = ${version + 1}`);
    })();
  }
}
