import { describe, expect, it } from 'vitest';
import { toFtsQuery } from './searchQuery.ts';
import { MAX_SEARCH_TERMS, parseSearchQuery } from '../../shared/search/parseSearchQuery.ts';
import { splitHighlights } from './snippetHighlights.ts';

const fts = (text: string): string | null => toFtsQuery(parseSearchQuery(text));

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
