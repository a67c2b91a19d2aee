import { describe, expect, it } from 'vitest';
import { toFtsQuery, toTsQuery, tsLexeme } from './searchQuery.ts';
import { foldWord, wordsOf } from './searchWords.ts';
import { markedSnippet } from './markedSnippet.ts';
import { termWordsOf } from './searchQuery.ts';
import { MAX_SEARCH_TERMS, parseSearchQuery } from '../../shared/search/parseSearchQuery.ts';
import { splitHighlights } from './snippetHighlights.ts';

const fts = (text: string): string | null => toFtsQuery(parseSearchQuery(text));
const tsq = (text: string): string | null => toTsQuery(parseSearchQuery(text));

describe('the search syntax', () => {
  it('turns words, phrases and prefixes into quoted FTS5 strings', () => {
    expect(fts('hello world')).toBe('"hello" "world"');
    expect(fts('  "big deal"  now ')).toBe('"big deal" "now"');
    expect(fts('quart*')).toBe('"quart"*');
    expect(fts('"big de"*')).toBe('"big de"*');
    expect(parseSearchQuery('a "b c"* d*')).toEqual([
      { text: 'a', phrase: false, prefix: false },
      { text: 'b c', phrase: true, prefix: true },
      { text: 'd', phrase: false, prefix: true },
    ]);
  });

  it('treats FTS5 operators and punctuation as literal text', () => {
    expect(fts('a AND b OR NOT c')).toBe('"a" "AND" "b" "OR" "NOT" "c"');
    expect(fts('NEAR(a b) col:x ^start')).toBe('"NEAR(a" "b)" "col:x" "^start"');
    expect(fts('foo*bar')).toBe('"foo*bar"');
    // A quote left open runs to the end; a quote inside a word ends it.
    expect(fts('"never closed')).toBe('"never closed"');
    expect(fts('ab"cd"')).toBe('"ab" "cd"');
  });

  it('drops terms without a letter or digit, and finds nothing to search in those alone', () => {
    expect(fts('*** - "" "  " *')).toBeNull();
    expect(fts('')).toBeNull();
    expect(fts('- ok')).toBe('"ok"');
    expect(fts('日本語 ü')).toBe('"日本語" "ü"');
  });

  it('keeps at most MAX_SEARCH_TERMS terms', () => {
    expect(parseSearchQuery(Array.from({ length: 40 }, (_, i) => `w${i}`).join(' '))).toHaveLength(MAX_SEARCH_TERMS);
  });
});

describe('the PostgreSQL tsquery of the search syntax (toTsQuery)', () => {
  it('turns words into quoted lexemes joined by &, phrases into <->, prefixes into :*', () => {
    expect(tsq('hello world')).toBe("'hello' & 'world'");
    expect(tsq('  "big deal"  now ')).toBe("('big' <-> 'deal') & 'now'");
    expect(tsq('quart*')).toBe("'quart':*");
    expect(tsq('"big de"*')).toBe("('big' <-> 'de':*)");
    // A word the tokenizer splits is a phrase, as in FTS5.
    expect(tsq('foo-bar')).toBe("('foo' <-> 'bar')");
    expect(tsq('foo-bar*')).toBe("('foo' <-> 'bar':*)");
  });

  it('folds case and diacritics as the index does', () => {
    expect(tsq('Crème BRÛLÉE')).toBe("'creme' & 'brulee'");
    expect(tsq('"Ça va"*')).toBe("('ca' <-> 'va':*)");
    expect(tsq('日本語 ü')).toBe("'日本語' & 'u'");
  });

  it('never lets the text become tsquery syntax: hostile input is words or nothing', () => {
    expect(tsq("it's")).toBe("('it' <-> 's')");
    expect(tsq("'; DROP TABLE message_search; --")).toBe("'drop' & 'table' & ('message' <-> 'search')");
    expect(tsq('a\\b \\')).toBe("('a' <-> 'b')");
    // `<2>` is the word 2; `y:*` the prefix y (the `*` is the syntax's own); `z:A` the phrase z a.
    expect(tsq('lunch & !ready | (x) <-> <2> y:* z:A')).toBe("'lunch' & 'ready' & 'x' & '2' & 'y':* & ('z' <-> 'a')");
    expect(tsq("lunch') | ('ready")).toBe("'lunch' & 'ready'");
    expect(tsq('AND OR NOT NEAR(a b) col:x ^start')).toBe("'and' & 'or' & 'not' & ('near' <-> 'a') & 'b' & ('col' <-> 'x') & 'start'");
    // Only punctuation, or nothing: nothing to search.
    for (const text of ['', '   ', "'", "''", '\\', '&|!()<>:*', '"" "  " *', '<->', ':*']) expect(tsq(text), text).toBeNull();
    // Every operand of any output is a quoted lexeme: strip them and only operators remain.
    for (const text of ["a'b", 'x\\y', 'p:q', '(r)', '!s', 't&u|v', 'w<->z', "q'':*"]) {
      const query = tsq(text);
      expect(query, text).not.toBeNull();
      expect(query!.replace(/'(?:[^']|'')*'(?::\*)?/g, '').replace(/[\s()&]|<->/g, ''), text).toBe('');
    }
  });

  it('quotes a lexeme whatever it holds (tsLexeme)', () => {
    expect(tsLexeme('plain')).toBe("'plain'");
    expect(tsLexeme("it's")).toBe("'it''s'");
    expect(tsLexeme('a\\b')).toBe("'a\\\\b'");
    expect(tsLexeme("\\'")).toBe("'\\\\'''");
    expect(tsLexeme('x:* & !y')).toBe("'x:* & !y'");
  });
});

describe('the words of a text (searchWords.ts, unicode61 in JavaScript)', () => {
  it('splits at anything not a letter, digit or mark, and folds case and Latin diacritics', () => {
    expect(wordsOf("Crème-BRÛLÉE, ana@example.com don't 3.14").map((w) => w.lexeme)).toEqual(['creme', 'brulee', 'ana', 'example', 'com', 'don', 't', '3', '14']);
    expect(wordsOf('  héllo ').map(({ start, end }) => [start, end])).toEqual([[2, 7]]);
    // Written decomposed, an accent stays inside its word.
    expect(wordsOf('cre\u0300me').map((w) => w.lexeme)).toEqual(['creme']);
    expect(foldWord('Ǆemal')).toBe('ǆemal');
    expect(wordsOf('\uFFFD \u0301')).toEqual([]);
  });
});

describe('markedSnippet (snippets on PostgreSQL)', () => {
  const snip = (content: string, q: string, size = 24): string => markedSnippet(content, termWordsOf(parseSearchQuery(q)), size);

  it('marks each match where it is written, phrases over what lies between their words', () => {
    expect(snip('Crème brûlée, crème', 'creme')).toBe('\uE000Crème\uE001 brûlée, \uE000crème\uE001');
    expect(snip('src=x and src y', '"src x"')).toBe('\uE000src=x\uE001 and src y');
    expect(snip('quarterly quartz', 'quart*')).toBe('\uE000quarterly\uE001 \uE000quartz\uE001');
    expect(snip('nothing here', 'absent')).toBe('nothing here');
  });

  it('prefers the window holding the most distinct terms', () => {
    const text = 'alpha one two three four five six beta gamma';
    expect(snip(text, 'beta gamma alpha', 3)).toBe('…six \uE000beta\uE001 \uE000gamma\uE001');
  });
});

describe('splitHighlights', () => {
  it('strips the markers into ranges of the plain text', () => {
    const { snippet, highlights } = splitHighlights('say \uE000<b>hi</b>\uE001 and \uE000hi\uE001');
    expect(snippet).toBe('say <b>hi</b> and hi');
    expect(highlights).toEqual([
      [4, 13],
      [18, 20],
    ]);
    expect(highlights.map(([s, e]) => snippet.slice(s, e))).toEqual(['<b>hi</b>', 'hi']);
  });

  it('merges adjacent ranges and drops empty or unbalanced ones', () => {
    expect(splitHighlights('\uE000a\uE001\uE000b\uE001').highlights).toEqual([[0, 2]]);
    expect(splitHighlights('x\uE000\uE001y\uE001').highlights).toEqual([]);
    expect(splitHighlights('😀 \uE000é\uE001').highlights).toEqual([[3, 4]]);
  });
});
