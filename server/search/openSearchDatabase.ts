import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { migrate, type Db } from '../storage/openDatabase.ts';

/**
 * The search index's schema (docs/search.md), applied in order and recorded in the file's own
 * `PRAGMA user_version`. Append new steps; never edit a step that has shipped.
 *
 * `message_search` is the FTS5 index (content stored: snippets need it). FTS5 finds a row fast
 * only by rowid, so `search_rows` maps each message id to its row and to the document it was
 * indexed from (a message the Segmenter moves between documents keeps one row). `search_indexed`:
 * each document's Yjs state vector as of when the index last held all of it, so a room loaded
 * unchanged since is not indexed again. Prefix indexes of 2 to 4 characters: without them a prefix
 * query merges the lists of every word it matches (bench searchLatency, 1M messages: 62 ms p50,
 * 607 ms p99).
 */
const SEARCH_MIGRATIONS: readonly string[] = [
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
];

/**
 * The search index's file beside the database file `dbFile`: `parley.db` -> `parley.search.db`.
 * An in-memory database (tests) has an in-memory index, private to the search worker.
 */
export function searchDbFileOf(dbFile: string): string {
  if (dbFile === ':memory:') return dbFile;
  const ext = path.extname(dbFile);
  return path.join(path.dirname(dbFile), `${path.basename(dbFile, ext)}.search${ext}`);
}

/**
 * Opens (creating if needed) the search index's SQLite file and brings its schema up to date. WAL,
 * and synchronous=NORMAL always: the index is derived data, its rows and the state vectors
 * recorded with them commit together, so a power loss can only lose both, and each document whose
 * recorded state is then older than its stored one is indexed again when it next loads.
 */
export function openSearchDatabase(file: string): Db {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  migrate(db, SEARCH_MIGRATIONS);
  return db;
}
