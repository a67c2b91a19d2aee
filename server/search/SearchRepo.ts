import { z } from 'zod';
import type { Db } from '../storage/openDatabase.ts';
import { parseRow, stateVectorOf } from '../storage/sqlRows.ts';
import type { SearchTerm } from '../../shared/search/parseSearchQuery.ts';
import { toFtsQuery } from './searchQuery.ts';
import { MATCH_END, MATCH_START, sanitizeForIndex } from './snippetHighlights.ts';

/** One message as indexed. */
export interface SearchEntry {
  readonly roomId: string;
  readonly messageId: string;
  readonly senderId: string | null;
  readonly createdAt: number;
  readonly content: string;
}

/**
 * A search: the terms (parseSearchQuery's; each backend builds its own query of them, toFtsQuery or
 * toTsQuery, never from user text), the rooms to look in, and the page.
 */
export interface SearchQuery {
  readonly terms: readonly SearchTerm[];
  readonly roomIds: readonly string[];
  readonly limit: number;
  readonly offset: number;
}

/** One hit, best first: the snippet still holds MATCH_START / MATCH_END (splitHighlights strips them). */
export interface SearchHit {
  readonly roomId: string;
  readonly messageId: string;
  readonly senderId: string | null;
  readonly createdAt: number;
  readonly marked: string;
}

const RowRefSchema = z.object({ row: z.number().int(), doc_name: z.string() });
const IdRowSchema = z.object({ message_id: z.string() });
const IdSchema = z.object({ id: z.number().int() });
const HitRowSchema = z.object({
  id: z.number().int(),
  room_id: z.string(),
  message_id: z.string(),
  // FTS5 stores what it was given: NULL for no sender, an integer for the time.
  sender_id: z.string().nullable(),
  created_at: z.number().int(),
  marked: z.string(),
});

/**
 * Matches ranked by relevance: the newest this many (docs/search.md, "Ranking"). Deeper pages
 * than the route allows (1,000 results) never need more.
 */
export const RANKED_WINDOW = 1_000;

/** Tokens of context in a snippet (FTS5 allows up to 64). */
export const SNIPPET_TOKENS = 24;

/**
 * The search tables (docs/search.md): `message_search` (FTS5), `search_rows` (message id -> its
 * FTS row and the document it came from) and `search_indexed` (per document, the state vector the
 * index last held all of). Rows are keyed by message id: a message moved from one document to
 * another (the Segmenter moves messages between a head and its segments) replaces its row, and a
 * removal names the document it comes from, so the old document's removal never drops the row
 * the new one wrote, whichever order they come in.
 */
export class SearchRepo {
  readonly #db: Db;
  readonly #rowOf;
  readonly #deleteFts;
  readonly #insertFts;
  readonly #putRow;
  readonly #deleteRow;
  readonly #idsOfDoc;
  readonly #stateOf;
  readonly #putState;
  readonly #forgetState;
  readonly #page;
  readonly #rankOf;

  constructor(db: Db) {
    this.#db = db;
    this.#rowOf = db.prepare<[string]>('SELECT row, doc_name FROM search_rows WHERE message_id = ?');
    this.#deleteFts = db.prepare<[number]>('DELETE FROM message_search WHERE rowid = ?');
    this.#insertFts = db.prepare<{ content: string; room_id: string; message_id: string; sender_id: string | null; created_at: number }>(
      'INSERT INTO message_search (content, room_id, message_id, sender_id, created_at) VALUES (@content, @room_id, @message_id, @sender_id, @created_at)',
    );
    this.#putRow = db.prepare<[string, number, string]>('INSERT OR REPLACE INTO search_rows (message_id, row, doc_name) VALUES (?, ?, ?)');
    this.#deleteRow = db.prepare<[string]>('DELETE FROM search_rows WHERE message_id = ?');
    this.#idsOfDoc = db.prepare<[string]>('SELECT message_id FROM search_rows WHERE doc_name = ?');
    this.#stateOf = db.prepare<[string]>('SELECT state_vector FROM search_indexed WHERE doc_name = ?');
    this.#putState = db.prepare<[string, Buffer]>('INSERT OR REPLACE INTO search_indexed (doc_name, state_vector) VALUES (?, ?)');
    this.#forgetState = db.prepare<[string]>('DELETE FROM search_indexed WHERE doc_name = ?');
    // Candidates: the newest RANKED_WINDOW matches (rowid order, which FTS5 walks without
    // sorting and stops early), ranked by bm25 among themselves. Ranking every match instead cost
    // a common word's search 61 ms at 100,000 messages (bench searchLatency), ten times that at a
    // million. The caller's rooms come with each query (its active memberships as of the request),
    // so a removed member's rooms drop out at once.
    this.#rankOf = db.prepare<{ q: string; rooms: string; limit: number; offset: number }>(
      `SELECT id FROM (
         SELECT rowid AS id, rank AS r FROM message_search
         WHERE message_search MATCH @q AND room_id IN (SELECT value FROM json_each(@rooms))
         ORDER BY rowid DESC LIMIT ${RANKED_WINDOW})
       ORDER BY r, id LIMIT @limit OFFSET @offset`,
    );
    // Snippets only for the page's rows (snippet() is the costly part of a row).
    this.#page = db.prepare<{ q: string; ids: string }>(
      `SELECT rowid AS id, room_id, message_id, sender_id, created_at,
         snippet(message_search, 0, '${MATCH_START}', '${MATCH_END}', '…', ${SNIPPET_TOKENS}) AS marked
       FROM message_search WHERE message_search MATCH @q AND rowid IN (SELECT value FROM json_each(@ids))`,
    );
  }

  /** Indexes the message as found in document `docName`, replacing any row it had (from any document). */
  put(docName: string, entry: SearchEntry): void {
    this.#dropRow(entry.messageId);
    const { lastInsertRowid } = this.#insertFts.run({
      content: sanitizeForIndex(entry.content),
      room_id: entry.roomId,
      message_id: entry.messageId,
      sender_id: entry.senderId,
      created_at: entry.createdAt,
    });
    this.#putRow.run(entry.messageId, Number(lastInsertRowid), docName);
  }

  /** Drops the message's row if it was indexed from document `docName` (a row another document wrote since stays). */
  remove(docName: string, messageId: string): void {
    const ref = this.#ref(messageId);
    if (ref && ref.doc_name === docName) this.#dropRow(messageId);
  }

  /** Drops the message's row, whichever document wrote it (a deletion wins everywhere). */
  drop(messageId: string): void {
    this.#dropRow(messageId);
  }

  /** The message ids indexed from document `docName`. */
  idsOf(docName: string): string[] {
    return this.#idsOfDoc.all(docName).map((row) => parseRow(IdRowSchema, row, 'search_rows').message_id);
  }

  /** The state vector the index last held all of document `docName` at; null when it never did. */
  indexedState(docName: string): Uint8Array | null {
    const row = this.#stateOf.get(docName);
    return stateVectorOf(row, 'search_indexed');
  }

  /** The index holds all of document `docName` as of `stateVector`. */
  recordIndexed(docName: string, stateVector: Uint8Array): void {
    this.#putState.run(docName, Buffer.from(stateVector));
  }

  /** The document is not (or no longer) known to be indexed whole. */
  forgetIndexed(docName: string): void {
    this.#forgetState.run(docName);
  }

  /** Messages matching the terms (an FTS5 query built by toFtsQuery, never user text) in rooms `roomIds` (the caller checked membership), by bm25. */
  search(q: SearchQuery): SearchHit[] {
    const fts = toFtsQuery(q.terms);
    if (fts === null || q.roomIds.length === 0) return [];
    const order = this.#rankOf.all({ q: fts, rooms: JSON.stringify(q.roomIds), limit: q.limit, offset: q.offset }).map((raw) => parseRow(IdSchema, raw, 'message_search').id);
    if (order.length === 0) return [];
    const rows = this.#page.all({ q: fts, ids: JSON.stringify(order) });
    // The page's rows come in rowid order: put them back in rank order.
    const position = new Map(order.map((id, i) => [id, i]));
    return rows
      .map((raw) => parseRow(HitRowSchema, raw, 'message_search'))
      .sort((a, b) => (position.get(a.id) ?? 0) - (position.get(b.id) ?? 0))
      .map((row) => ({ roomId: row.room_id, messageId: row.message_id, senderId: row.sender_id, createdAt: row.created_at, marked: row.marked }));
  }

  /** Runs `fn` in one transaction (the file is synchronous=NORMAL: openSearchDatabase.ts says why). */
  transaction<T>(fn: () => T): T {
    return this.#db.transaction(fn).immediate();
  }

  #ref(messageId: string): z.infer<typeof RowRefSchema> | null {
    const row = this.#rowOf.get(messageId);
    return row === undefined ? null : parseRow(RowRefSchema, row, 'search_rows');
  }

  #dropRow(messageId: string): void {
    const ref = this.#ref(messageId);
    if (!ref) return;
    this.#deleteFts.run(ref.row);
    this.#deleteRow.run(messageId);
  }
}
