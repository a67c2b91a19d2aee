import pino from 'pino';
import { afterEach, describe, expect, test } from 'vitest';
import { z } from 'zod';
import { uuidv4 } from '../../shared/ids.ts';
import { parseSearchQuery } from '../../shared/search/parseSearchQuery.ts';
import type { Db } from '../storage/openDatabase.ts';
import { repoBackends } from '../../test/support/repoBackends.ts';
import { openSearchDatabase, searchDbFileOf } from './openSearchDatabase.ts';
import { PgSearchRepo } from './PgSearchRepo.ts';
import { RANKED_WINDOW, type SearchEntry, type SearchHit, SearchRepo } from './SearchRepo.ts';
import { SearchWorker } from './SearchWorker.ts';
import { tsLexeme } from './searchQuery.ts';
import { MATCH_END, MATCH_START, splitHighlights } from './snippetHighlights.ts';

/*
 * The search index's contract (docs/search.md), run on SQLite's FTS5 file and on PostgreSQL's
 * full text search: the same messages, the same queries (parseSearchQuery's terms, each backend
 * building its own query), the same answers, except where docs/search.md ("On PostgreSQL") says
 * they differ. Then PostgreSQL alone: the search worker thread on it, and two nodes at once.
 */
interface Harness {
  readonly backend: 'sqlite' | 'postgres';
  readonly repo: SearchRepo | PgSearchRepo;
  /** Puts `entries` in one transaction, then fails it with `failure` when given. */
  putAll(docName: string, entries: readonly SearchEntry[], failure?: Error): Promise<void>;
}

const searchFiles: Db[] = [];
afterEach(() => {
  for (const db of searchFiles.splice(0)) db.close();
});

const { backends, postgresOnly } = repoBackends<Harness>('SearchRepo', {
  sqlite: (_db, { file }) => {
    // The index's own file beside the database, as the server has it.
    const db = openSearchDatabase(searchDbFileOf(file));
    searchFiles.push(db);
    const repo = new SearchRepo(db);
    return {
      backend: 'sqlite',
      repo,
      putAll: async (docName, entries, failure) =>
        repo.transaction(() => {
          for (const entry of entries) repo.put(docName, entry);
          if (failure) throw failure;
        }),
    };
  },
  postgres: (pool) => {
    const repo = new PgSearchRepo(pool);
    return {
      backend: 'postgres',
      repo,
      putAll: (docName, entries, failure) =>
        repo.transaction(async (tx) => {
          for (const entry of entries) await tx.put(docName, entry);
          if (failure) throw failure;
        }),
    };
  },
});

const room = uuidv4();
const otherRoom = uuidv4();
const segment = `${room}:0`;
let made = 0;
/** A message of `room` (unless said) with this text; ids in the order made. */
const entry = (content: string, over: Partial<SearchEntry> = {}): SearchEntry => ({
  roomId: room,
  messageId: `m${String(++made).padStart(5, '0')}`,
  senderId: 'ana',
  createdAt: 1_700_000_000_000 + made,
  content,
  ...over,
});

/** Hits for what a user typed, in the caller's rooms (default: `room`). */
const hits = async (h: Harness, text: string, { rooms = [room], limit = 50, offset = 0 } = {}): Promise<SearchHit[]> =>
  h.repo.search({ terms: parseSearchQuery(text), roomIds: rooms, limit, offset });
/** The text of each hit, best first (the snippet without its markers: whole for short messages). */
const found = async (h: Harness, text: string, options: { rooms?: string[]; limit?: number; offset?: number } = {}): Promise<string[]> =>
  (await hits(h, text, options)).map((hit) => splitHighlights(hit.marked).snippet);
/** Indexes each text as a message of `room` from its head, in order. */
const index = async (h: Harness, ...contents: string[]): Promise<SearchEntry[]> => {
  const entries = contents.map((c) => entry(c));
  await h.putAll(room, entries);
  return entries;
};

describe.each(backends)('search contract: $name', ({ open, runs }) => {
  const it = runs ? test : test.skip;

  it('indexes a message and finds it by each of its words, all words required; a rewrite replaces its text', async () => {
    const h = await open();
    const [m] = await index(h, 'the quarterly report is ready', 'ready for lunch');
    expect(await found(h, 'report')).toEqual(['the quarterly report is ready']);
    expect(await found(h, 'report ready')).toEqual(['the quarterly report is ready']);
    expect(await found(h, 'report lunch')).toEqual([]);
    expect(await found(h, 'dinner')).toEqual([]);
    const [hit] = await hits(h, 'quarterly');
    expect(hit).toMatchObject({ roomId: room, messageId: m!.messageId, senderId: 'ana', createdAt: m!.createdAt });
    await h.repo.put(room, { ...m!, content: 'the report moved to friday', senderId: null });
    expect(await found(h, 'quarterly')).toEqual([]);
    expect(await hits(h, 'friday')).toMatchObject([{ messageId: m!.messageId, senderId: null }]);
  });

  it('folds case and diacritics both ways, and splits words as unicode61 does', async () => {
    const h = await open();
    await index(h, 'Crème BRÛLÉE for dessert', 'write to ana@example.com or see https://parley.dev/docs/search', "don't use 3.14 in foo-bar");
    for (const q of ['creme brulee', 'CRÈME', 'brûlée', 'Dessert']) expect(await found(h, q), q).toEqual(['Crème BRÛLÉE for dessert']);
    // Punctuation separates words: an address, a URL, an apostrophe, a decimal point, a hyphen.
    for (const q of ['example', 'ana', 'parley', 'docs', 'don', '14', 'bar', '"foo bar"', 'foo-bar', 'ana@example.com']) expect(await found(h, q), q).toHaveLength(1);
    expect(await found(h, 'dont')).toEqual([]);
    expect(await found(h, 'exam')).toEqual([]);
  });

  it('matches a prefix with *: a word, or the last word of a phrase', async () => {
    const h = await open();
    await index(h, 'the quarterly report', 'a big deal', 'a big idea');
    expect(await found(h, 'quart*')).toEqual(['the quarterly report']);
    expect(await found(h, 'quart')).toEqual([]);
    expect(await found(h, 'QUÄRT*')).toEqual(['the quarterly report']);
    expect(await found(h, '"big de"*')).toEqual(['a big deal']);
    expect(await found(h, '"big de"')).toEqual([]);
    expect((await found(h, 'b*')).sort()).toEqual(['a big deal', 'a big idea']);
  });

  it('matches a phrase: its words in that order, next to each other', async () => {
    const h = await open();
    await index(h, 'the quarterly report is ready', 'is the report ready');
    expect(await found(h, '"report is ready"')).toEqual(['the quarterly report is ready']);
    expect(await found(h, '"ready report"')).toEqual([]);
    expect(await found(h, '"quarterly ready"')).toEqual([]);
    // A quote left open runs to the end of the text.
    expect(await found(h, '"the report')).toEqual(['is the report ready']);
  });

  it('reads operators and punctuation in the text as words, never as query syntax', async () => {
    const h = await open();
    await index(h, 'ready for lunch', "it's a\\b c:d", 'report NOT ready');
    expect(await found(h, '(lunch')).toEqual(['ready for lunch']);
    expect(await found(h, 'lunch OR')).toEqual([]);
    expect(await found(h, 'content:lunch')).toEqual([]);
    expect(await found(h, 'report NOT ready')).toEqual(['report NOT ready']);
    expect(await found(h, "it's")).toEqual(["it's a\\b c:d"]);
    expect(await found(h, 'a\\b')).toEqual(["it's a\\b c:d"]);
    expect(await found(h, 'c:d')).toEqual(["it's a\\b c:d"]);
    // tsquery and FTS5 syntax: each answers without an error, and finds only the literal words.
    const hostile = ["'", "''", '\\', "\\'", 'lunch & !ready', 'lunch|ready', '!lunch', 'lunch:*', 'lunch:A', '<-> lunch', '<2>', 'x:*y', "lunch') | ('ready", '(lunch)', 'NEAR(lunch ready)', '^lunch', 'lunch*:*'];
    for (const q of hostile) {
      const results = await found(h, q);
      for (const text of results) expect(text, q).toContain('lunch');
    }
    expect(await found(h, 'lunch & !ready')).toEqual(['ready for lunch']);
    expect(await found(h, "lunch') | ('dessert")).toEqual([]);
    expect(await found(h, '!lunch')).toEqual(['ready for lunch']);
  });

  it('searches only the rooms given', async () => {
    const h = await open();
    await h.putAll(room, [entry('pineapple here')]);
    await h.putAll(otherRoom, [entry('pineapple there', { roomId: otherRoom })]);
    expect(await found(h, 'pineapple')).toEqual(['pineapple here']);
    expect(await found(h, 'pineapple', { rooms: [otherRoom] })).toEqual(['pineapple there']);
    expect((await found(h, 'pineapple', { rooms: [room, otherRoom] })).sort()).toEqual(['pineapple here', 'pineapple there']);
    expect(await found(h, 'pineapple', { rooms: [] })).toEqual([]);
    expect(await found(h, 'pineapple', { rooms: [uuidv4()] })).toEqual([]);
  });

  it('keeps one row for a message moved between documents, whichever document is indexed first', async () => {
    const h = await open();
    const [a, b] = await index(h, 'apricot jam', 'apricot tart');
    // The segment first: its row takes the message over, and the head's removal leaves it.
    await h.repo.put(segment, a!);
    await h.repo.remove(room, a!.messageId);
    expect(await h.repo.idsOf(segment)).toEqual([a!.messageId]);
    expect(await h.repo.idsOf(room)).toEqual([b!.messageId]);
    // The head first: removed, then indexed from the segment.
    await h.repo.remove(room, b!.messageId);
    expect(await found(h, 'tart')).toEqual([]);
    await h.repo.put(segment, b!);
    expect((await h.repo.idsOf(segment)).sort()).toEqual([a!.messageId, b!.messageId]);
    expect(await h.repo.idsOf(room)).toEqual([]);
    expect((await found(h, 'apricot')).sort()).toEqual(['apricot jam', 'apricot tart']);
  });

  it('remove drops a row only for the document that wrote it; drop whatever wrote it', async () => {
    const h = await open();
    const [a, b] = await index(h, 'plum one', 'plum two');
    await h.repo.remove(segment, a!.messageId);
    await h.repo.remove(room, 'never indexed');
    expect(await found(h, 'plum')).toHaveLength(2);
    await h.repo.remove(room, a!.messageId);
    expect(await found(h, 'plum')).toEqual(['plum two']);
    await h.repo.drop(b!.messageId);
    await h.repo.drop('never indexed');
    expect(await found(h, 'plum')).toEqual([]);
    expect(await h.repo.idsOf(room)).toEqual([]);
  });

  it('records, replaces and forgets the state a document was indexed at', async () => {
    const h = await open();
    expect(await h.repo.indexedState(room)).toBeNull();
    await h.repo.recordIndexed(room, new Uint8Array([1, 2, 3]));
    await h.repo.recordIndexed(segment, new Uint8Array([9]));
    expect(await h.repo.indexedState(room)).toEqual(new Uint8Array([1, 2, 3]));
    await h.repo.recordIndexed(room, new Uint8Array([4]));
    expect(await h.repo.indexedState(room)).toEqual(new Uint8Array([4]));
    await h.repo.forgetIndexed(room);
    await h.repo.forgetIndexed('never recorded');
    expect(await h.repo.indexedState(room)).toBeNull();
    expect(await h.repo.indexedState(segment)).toEqual(new Uint8Array([9]));
  });

  it('a transaction that fails writes nothing', async () => {
    const h = await open();
    await index(h, 'kept message');
    await expect(h.putAll(room, [entry('lost message'), entry('another lost one')], new Error('disk full'))).rejects.toThrow('disk full');
    expect(await found(h, 'message')).toEqual(['kept message']);
    expect(await found(h, 'lost')).toEqual([]);
  });

  it('ranks the best match first, equals in the order they were indexed', async () => {
    const h = await open();
    await index(h, 'the quarterly report is ready', 'report report report: three times the report', 'one report here');
    expect((await found(h, 'report'))[0]).toBe('report report report: three times the report');
    const equals = await index(h, 'mango alpha', 'mango beta', 'mango gamma');
    expect((await hits(h, 'mango')).map((hit) => hit.messageId)).toEqual(equals.map((e) => e.messageId));
  });

  it(`ranks only the newest ${RANKED_WINDOW} matches (as written), and pages through them`, async () => {
    const h = await open();
    const [oldBest] = await index(h, 'common common common common');
    await h.putAll(
      room,
      Array.from({ length: RANKED_WINDOW - 1 }, (_, i) => entry(`common word number ${i} and some more text`)),
    );
    const [newBest] = await index(h, 'common common common here');
    const all = await hits(h, 'common', { limit: RANKED_WINDOW + 10 });
    expect(all).toHaveLength(RANKED_WINDOW);
    expect(all[0]!.messageId).toBe(newBest!.messageId);
    expect(all.map((hit) => hit.messageId)).not.toContain(oldBest!.messageId);
    // Written again, the oldest is among the newest: inside the window, and best.
    await h.repo.put(room, oldBest!);
    expect((await hits(h, 'common', { limit: 1 }))[0]!.messageId).toBe(oldBest!.messageId);
  });

  it('pages with limit and offset: each result once, in rank order', async () => {
    const h = await open();
    const sent = await index(h, ...Array.from({ length: 7 }, (_, i) => `banana ${'banana '.repeat(i % 3)}number ${i}`));
    const whole = (await hits(h, 'banana')).map((hit) => hit.messageId);
    expect(new Set(whole)).toEqual(new Set(sent.map((e) => e.messageId)));
    const paged: string[] = [];
    for (let offset = 0; offset < 9; offset += 3) paged.push(...(await hits(h, 'banana', { limit: 3, offset })).map((hit) => hit.messageId));
    expect(paged).toEqual(whole);
    expect(await hits(h, 'banana', { limit: 3, offset: 7 })).toEqual([]);
  });

  it('marks the matches in a snippet of the plain text: HTML stays text, a marker in a message cannot fake one', async () => {
    const h = await open();
    const text = `look <img src=x onerror=alert(1)> at this ${MATCH_START}fake${MATCH_END} onerror`;
    await index(h, text, 'Crème brûlée for dessert');
    const [hit] = await hits(h, 'onerror');
    const { snippet, highlights } = splitHighlights(hit!.marked);
    expect(snippet).toBe(text.replace(/[\uE000\uE001]/g, '\uFFFD'));
    expect(highlights.map(([s, e]) => snippet.slice(s, e))).toEqual(['onerror', 'onerror']);
    // A phrase is marked over its words and what lies between them; a prefix over the whole word.
    const phrase = splitHighlights((await hits(h, '"src x"'))[0]!.marked);
    expect(phrase.highlights.map(([s, e]) => phrase.snippet.slice(s, e))).toEqual(['src=x']);
    const prefix = splitHighlights((await hits(h, 'onerr*'))[0]!.marked);
    expect(prefix.highlights.map(([s, e]) => prefix.snippet.slice(s, e))).toEqual(['onerror', 'onerror']);
    // A folded match marks the word as written.
    expect((await hits(h, 'creme'))[0]!.marked).toBe(`${MATCH_START}Crème${MATCH_END} brûlée for dessert`);
  });

  it('cuts a long message to a window of 24 words around the matches, … where text was cut', async () => {
    const h = await open();
    const words = Array.from({ length: 100 }, (_, i) => `w${i}`);
    await index(h, `${words.slice(0, 60).join(' ')} needle ${words.slice(60).join(' ')}.`);
    const marked = (await hits(h, 'needle'))[0]!.marked;
    const { snippet, highlights } = splitHighlights(marked);
    expect(snippet.startsWith('…') && snippet.endsWith('…')).toBe(true);
    expect(snippet.slice(1, -1).split(' ')).toHaveLength(24);
    expect(highlights.map(([s, e]) => snippet.slice(s, e))).toEqual(['needle']);
    // At the start, the text before the window's first word is kept; at the end, what follows its last.
    await index(h, `> first ${words.slice(0, 40).join(' ')}`, `${words.slice(0, 40).join(' ')} last!`);
    expect(splitHighlights((await hits(h, 'first'))[0]!.marked).snippet).toBe(`> first ${words.slice(0, 23).join(' ')}…`);
    expect(splitHighlights((await hits(h, 'last'))[0]!.marked).snippet).toBe(`…${words.slice(17, 40).join(' ')} last!`);
  });

  it('finds a phrase far into a long message on SQLite; on PostgreSQL past word 16,383 every word shares one position', async () => {
    const h = await open();
    const filler = Array.from({ length: 16_400 }, (_, i) => `f${i % 50}`).join(' ');
    await index(h, `${filler} far away`);
    expect(await found(h, 'away')).toHaveLength(1);
    expect(await found(h, '"far away"')).toHaveLength(h.backend === 'sqlite' ? 1 : 0);
  });
});

describe.each([postgresOnly])('search on PostgreSQL only: $name', ({ open, runs }) => {
  const it = runs ? test : test.skip;

  it('the search worker thread on PostgreSQL answers a search after every write sent before it', async () => {
    const db = await open();
    const worker = new SearchWorker({ backend: 'postgres', url: db.url }, pino({ level: 'silent' }));
    try {
      const [m1, m2] = [entry('apricot jam'), entry('apricot tart')];
      void worker.write([{ op: 'put', docName: room, entry: m1 }]);
      void worker.write([{ op: 'put', docName: room, entry: m2 }, { op: 'drop', messageId: m1.messageId }, { op: 'record', docName: room, stateVector: new Uint8Array([7]) }]);
      const found = await worker.search({ terms: parseSearchQuery('apric*'), roomIds: [room], limit: 10, offset: 0 });
      expect(found.map((hit) => hit.messageId)).toEqual([m2.messageId]);
      expect(found[0]!.marked).toBe(`${MATCH_START}apricot${MATCH_END} tart`);
      expect(await worker.check(room, new Uint8Array([7]))).toBeNull();
      expect(await worker.check(room, new Uint8Array([8]))).toEqual([m2.messageId]);
      expect(await worker.unindexed([room, segment])).toEqual([segment]);
      // What the thread wrote is in the shared database: another node's repository finds it.
      expect((await new PgSearchRepo(await db.anotherNode()).search({ terms: parseSearchQuery('tart'), roomIds: [room], limit: 10, offset: 0 })).map((hit) => hit.messageId)).toEqual([m2.messageId]);
    } finally {
      await worker.close();
    }
  });

  it('a quoted lexeme (tsLexeme) is one operand holding exactly its text, whatever quotes, backslashes or operators it holds', async () => {
    const { pool } = await open();
    const Row = z.object({ lexemes: z.array(z.string()), nodes: z.number(), hit: z.boolean() });
    for (const raw of ["it's", 'a\\b', "\\'", "''", 'x:* & !y', "'); DROP TABLE message_search; --", '<-> | ( :A']) {
      const { rows } = await pool.query('SELECT tsvector_to_array($1::tsvector) AS lexemes, numnode($2::tsquery) AS nodes, $1::tsvector @@ $2::tsquery AS hit', [`${tsLexeme(raw)}:1`, tsLexeme(raw)]);
      expect(Row.parse(rows[0]), raw).toEqual({ lexemes: [raw], nodes: 1, hit: true });
    }
  });

  it('two nodes moving one message at once (the new document written, the old one removed) leave its row under the new document', async () => {
    const db = await open();
    const here = new PgSearchRepo(db.pool);
    const there = new PgSearchRepo(await db.anotherNode());
    const moved = Array.from({ length: 20 }, (_, i) => entry(`moving message ${i}`));
    await here.transaction(async (tx) => {
      for (const e of moved) await tx.put(room, e);
    });
    await Promise.all([
      here.transaction(async (tx) => {
        for (const e of moved) await tx.put(segment, e);
      }),
      there.transaction(async (tx) => {
        for (const e of moved) await tx.remove(room, e.messageId);
      }),
    ]);
    // Whichever committed first, every message is indexed once, from the segment (the removal of
    // a row already moved finds nothing; a row removed first is written again by the put).
    expect((await here.idsOf(segment)).sort()).toEqual(moved.map((e) => e.messageId).sort());
    expect(await here.idsOf(room)).toEqual([]);
    expect(await here.search({ terms: parseSearchQuery('moving'), roomIds: [room], limit: 50, offset: 0 })).toHaveLength(20);
  });
});
