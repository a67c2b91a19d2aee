import { z } from 'zod';
import type { AsyncApi } from '../storage/AsyncApi.ts';
import type { Queryable } from '../storage/pg/pgRepos.ts';
import { transaction } from '../storage/pg/pgTransactions.ts';
import { parseRow, stateVectorOf } from '../storage/sqlRows.ts';
import { markedSnippet } from './markedSnippet.ts';
import { RANKED_WINDOW, SNIPPET_TOKENS, type SearchEntry, type SearchHit, type SearchQuery, type SearchRepo } from './SearchRepo.ts';
import { termWordsOf, toTsQuery, tsLexeme } from './searchQuery.ts';
import { wordsOf } from './searchWords.ts';
import { sanitizeForIndex } from './snippetHighlights.ts';

const IdRowSchema = z.object({ message_id: z.string() });
const HitRowSchema = z.object({
  room_id: z.string(),
  message_id: z.string(),
  sender_id: z.string().nullable(),
  // BIGINT, read as a number by the pool (openPostgres.ts).
  created_at: z.number().int(),
  content: z.string(),
});

/** PostgreSQL's limits on a tsvector: a lexeme under 2 KiB, positions up to 16,383, at most 256 of them per lexeme. */
const MAX_LEXEME_BYTES = 2_046;
const MAX_POSITION = 16_383;
const MAX_POSITIONS = 256;

/**
 * The tsvector literal of `content`'s words (searchWords.ts): each lexeme quoted (tsLexeme) with
 * its word positions, 1-based. Past PostgreSQL's limits it does what to_tsvector does: a word too
 * long is left out, later positions are 16,383, a lexeme keeps its first 256 positions.
 */
export function toTsVector(content: string): string {
  const positions = new Map<string, number[]>();
  wordsOf(content).forEach(({ lexeme }, i) => {
    if (Buffer.byteLength(lexeme) > MAX_LEXEME_BYTES) return;
    const at = Math.min(i + 1, MAX_POSITION);
    const list = positions.get(lexeme) ?? [];
    if (list.length < MAX_POSITIONS && list.at(-1) !== at) list.push(at);
    positions.set(lexeme, list);
  });
  return [...positions].map(([lexeme, list]) => `${tsLexeme(lexeme)}:${list.join(',')}`).join(' ');
}

/**
 * The message search index on PostgreSQL (docs/search.md, "On PostgreSQL"): SearchRepo's
 * contract on `message_search` (one row per message: its document, its text, and the tsvector of
 * its words, GIN-indexed) and `search_indexed` (schema step 5, openPostgres.ts).
 *
 * Words are Parley's (searchWords.ts, FTS5's unicode61 done in JavaScript), handed to PostgreSQL as
 * finished lexemes (`::tsvector`, `::tsquery`, which normalize nothing), so that a word, a prefix,
 * a phrase and a folded diacritic match as on SQLite whatever the database's locale and with no
 * extension. Candidates are the newest RANKED_WINDOW matches in the caller's rooms (by `id`, the
 * order rows were written, as FTS5's rowid), ranked by ts_rank among themselves (bm25's role:
 * more occurrences rank higher, each adding less; unlike bm25, not normalized by the message's
 * length, which with ts_rank's logarithm outweighs repetition in short messages), then the page; snippets are made for the page's
 * rows only (markedSnippet.ts). Each write is one statement, so two nodes writing one message at
 * once (a message moving between documents) leave it under whichever wrote last, and a removal
 * naming the old document never drops the row the new one wrote.
 */
export class PgSearchRepo implements AsyncApi<SearchRepo> {
  readonly #db: Queryable;

  constructor(db: Queryable) {
    this.#db = db;
  }

  /** Indexes the message as found in document `docName`, replacing any row it had (from any document); the row is the newest. */
  async put(docName: string, entry: SearchEntry): Promise<void> {
    const content = sanitizeForIndex(entry.content);
    await this.#db.query(
      `INSERT INTO message_search (message_id, doc_name, room_id, sender_id, created_at, content, words)
       VALUES ($1, $2, $3, $4, $5, $6, $7::tsvector)
       ON CONFLICT (message_id) DO UPDATE SET id = DEFAULT, doc_name = excluded.doc_name, room_id = excluded.room_id,
         sender_id = excluded.sender_id, created_at = excluded.created_at, content = excluded.content, words = excluded.words`,
      [entry.messageId, docName, entry.roomId, entry.senderId, entry.createdAt, content, toTsVector(content)],
    );
  }

  /** Drops the message's row if it was indexed from document `docName` (a row another document wrote since stays). */
  async remove(docName: string, messageId: string): Promise<void> {
    await this.#db.query('DELETE FROM message_search WHERE message_id = $1 AND doc_name = $2', [messageId, docName]);
  }

  /** Drops the message's row, whichever document wrote it. */
  async drop(messageId: string): Promise<void> {
    await this.#db.query('DELETE FROM message_search WHERE message_id = $1', [messageId]);
  }

  async idsOf(docName: string): Promise<string[]> {
    const { rows } = await this.#db.query('SELECT message_id FROM message_search WHERE doc_name = $1', [docName]);
    return rows.map((row) => parseRow(IdRowSchema, row, 'message_search').message_id);
  }

  async indexedState(docName: string): Promise<Uint8Array | null> {
    const { rows } = await this.#db.query('SELECT state_vector FROM search_indexed WHERE doc_name = $1', [docName]);
    return stateVectorOf(rows[0], 'search_indexed');
  }

  async recordIndexed(docName: string, stateVector: Uint8Array): Promise<void> {
    await this.#db.query('INSERT INTO search_indexed (doc_name, state_vector) VALUES ($1, $2) ON CONFLICT (doc_name) DO UPDATE SET state_vector = excluded.state_vector', [
      docName,
      Buffer.from(stateVector),
    ]);
  }

  async forgetIndexed(docName: string): Promise<void> {
    await this.#db.query('DELETE FROM search_indexed WHERE doc_name = $1', [docName]);
  }

  /** Messages matching the terms (a tsquery built by toTsQuery, never user text) in rooms `roomIds` (the caller checked membership), best first. */
  async search(q: SearchQuery): Promise<SearchHit[]> {
    const tsquery = toTsQuery(q.terms);
    if (tsquery === null || q.roomIds.length === 0) return [];
    // The window's rows carry their vector only; the page's alone read their text. Ties of rank
    // by id, oldest first, as SQLite's by rowid.
    const { rows } = await this.#db.query(
      `WITH query AS (SELECT $1::tsquery AS q),
       recent AS (
         SELECT m.id, m.words FROM message_search m, query
         WHERE m.words @@ query.q AND m.room_id = ANY($2::text[])
         ORDER BY m.id DESC LIMIT ${RANKED_WINDOW}),
       page AS (
         SELECT recent.id, ts_rank(recent.words, query.q) AS rank FROM recent, query
         ORDER BY rank DESC, recent.id LIMIT $3 OFFSET $4)
       SELECT m.room_id, m.message_id, m.sender_id, m.created_at, m.content
       FROM page JOIN message_search m ON m.id = page.id
       ORDER BY page.rank DESC, page.id`,
      [tsquery, [...q.roomIds], q.limit, q.offset],
    );
    const terms = termWordsOf(q.terms);
    return rows.map((raw) => {
      const row = parseRow(HitRowSchema, raw, 'message_search');
      return { roomId: row.room_id, messageId: row.message_id, senderId: row.sender_id, createdAt: row.created_at, marked: markedSnippet(row.content, terms, SNIPPET_TOKENS) };
    });
  }

  /** Runs `fn` in one transaction (a savepoint inside a caller's), handing it the repository bound to it. */
  transaction<R>(fn: (tx: PgSearchRepo) => Promise<R>): Promise<R> {
    return transaction(this.#db, (client) => fn(new PgSearchRepo(client)));
  }
}
