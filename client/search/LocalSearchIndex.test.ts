import { describe, expect, it } from 'vitest';
import { LocalSearchIndex, type IndexedMessage } from './LocalSearchIndex.ts';
import { parseSearchQuery, formatSearchQuery } from '../../shared/search/parseSearchQuery.ts';
import { QueryMatcher } from './QueryMatcher.ts';
import { localSnippet, segmentsOf } from './snippetSegments.ts';

const ROOM_A = '0195f3b2-0000-7000-8000-00000000000a';
const ROOM_B = '0195f3b2-0000-7000-8000-00000000000b';
const SENDER = '0c7f3a1e-58f2-4c8e-9a51-0b0f1c2d3e01';
let n = 0;
const message = (content: string, roomId = ROOM_A, createdAt?: number): IndexedMessage => {
  n++;
  return { id: `0195f3b2-${String(n).padStart(4, '0')}-7000-8000-000000000000`, roomId, senderId: SENDER, content, createdAt: createdAt ?? 1_700_000_000_000 + n };
};

const find = (index: LocalSearchIndex, text: string, opts: { asYouType?: boolean; room?: (id: string) => boolean } = {}): string[] =>
  index.search(new QueryMatcher(parseSearchQuery(text, { asYouType: opts.asYouType ?? false })), opts.room ? { room: opts.room } : {}).map((h) => h.content);

describe('LocalSearchIndex', () => {
  it('finds by every word, ignoring case and diacritics; an edit replaces the entry; a deletion discards it and is remembered', () => {
    const index = new LocalSearchIndex();
    const a = message('The quarterly Report is ready');
    const b = message('Crème brûlée for dessert');
    index.put(a);
    index.put(b);
    expect(find(index, 'report quarterly')).toEqual([a.content]);
    expect(find(index, 'report lunch')).toEqual([]);
    expect(find(index, 'creme BRULEE')).toEqual([b.content]);

    index.put({ ...a, content: 'The annual report is late' });
    expect(find(index, 'quarterly')).toEqual([]);
    expect(find(index, 'annual')).toEqual(['The annual report is late']);
    expect(index.size).toBe(2);

    index.remove(a.id, { deleted: true });
    expect(find(index, 'report')).toEqual([]);
    expect(index.has(a.id)).toBe(false);
    expect(index.deleted(a.id)).toBe(true);
    // Written again (a deletion never is by the rules, but a re-put must not stay "deleted").
    index.put(a);
    expect(index.deleted(a.id)).toBe(false);
  });

  it('prefixes: `word*`, and the last word while typing', () => {
    const index = new LocalSearchIndex();
    index.put(message('deployment finished'));
    expect(find(index, 'deploy')).toEqual([]);
    expect(find(index, 'deploy*')).toEqual(['deployment finished']);
    expect(find(index, 'deploy', { asYouType: true })).toEqual(['deployment finished']);
    // A space after the word: the word is finished.
    expect(find(index, 'deploy ', { asYouType: true })).toEqual([]);
    expect(find(index, 'finished depl', { asYouType: true })).toEqual(['deployment finished']);
  });

  it('phrases keep only the words in that order (after MiniSearch found them all)', () => {
    const index = new LocalSearchIndex();
    index.put(message('the report is ready'));
    index.put(message('is the report ready'));
    expect(find(index, '"report is ready"')).toEqual(['the report is ready']);
    expect(find(index, 'report ready').sort()).toEqual(['is the report ready', 'the report is ready']);
    expect(find(index, '"report is re"*')).toEqual(['the report is ready']);
    // A word with punctuation inside is a phrase, as on the server (foo-bar is "foo bar").
    index.put(message('foo-bar baz'));
    index.put(message('bar foo baz'));
    expect(find(index, 'foo-bar')).toEqual(['foo-bar baz']);
  });

  it('filters by room, and drops a whole room', () => {
    const index = new LocalSearchIndex();
    index.put(message('hello from a', ROOM_A));
    index.put(message('hello from b', ROOM_B));
    expect(find(index, 'hello', { room: (id) => id === ROOM_B })).toEqual(['hello from b']);
    expect(index.removeRoom(ROOM_A)).toBe(1);
    expect(find(index, 'hello')).toEqual(['hello from b']);
    expect(index.rooms()).toEqual([ROOM_B]);
  });

  it('ranks the better match first, ties newest first', () => {
    const index = new LocalSearchIndex();
    const older = message('lunch today', ROOM_A, 1_000);
    const newer = message('lunch today', ROOM_A, 2_000);
    index.put(older);
    index.put(newer);
    expect(index.search(new QueryMatcher(parseSearchQuery('lunch'))).map((h) => h.id)).toEqual([newer.id, older.id]);
  });
});

describe('snippets', () => {
  it('HTML in a message stays text: segments are plain strings, the match marked', () => {
    const content = 'look <img src=x onerror=alert(1)> at this <b>bold</b> idea';
    const segments = localSnippet(content, new QueryMatcher(parseSearchQuery('img bold')));
    expect(segments.map((s) => s.text).join('')).toBe(content);
    expect(segments.filter((s) => s.match).map((s) => s.text)).toEqual(['img', 'bold']);
    expect(segments.every((s) => typeof s.text === 'string')).toBe(true);
  });

  it('a phrase is one highlight; a long message is cut around the first match with …', () => {
    const words = Array.from({ length: 60 }, (_, i) => `w${i}`);
    words.splice(40, 0, 'the', 'report', 'is', 'ready');
    const segments = localSnippet(words.join(' '), new QueryMatcher(parseSearchQuery('"report is ready"')));
    expect(segments[0]).toEqual({ text: '…w33 w34 w35 w36 w37 w38 w39 the ', match: false });
    expect(segments.at(-1)?.text.endsWith('…')).toBe(true);
    expect(segments.filter((s) => s.match).map((s) => s.text)).toEqual(['report is ready']);
  });

  it("the server's ranges become segments; ranges out of bounds or overlapping are clipped", () => {
    expect(segmentsOf('look <b>x</b> at this', [[5, 13]])).toEqual([
      { text: 'look ', match: false },
      { text: '<b>x</b>', match: true },
      { text: ' at this', match: false },
    ]);
    expect(segmentsOf('abc', [[1, 2], [1, 3], [2, 99]])).toEqual([
      { text: 'a', match: false },
      { text: 'b', match: true },
      { text: 'c', match: true },
    ]);
  });
});

describe('query syntax', () => {
  it('as you type, the last word (or an open phrase) becomes a prefix, and is written back with `*` for the server', () => {
    expect(formatSearchQuery(parseSearchQuery('quarterly rep', { asYouType: true }))).toBe('quarterly rep*');
    expect(formatSearchQuery(parseSearchQuery('"big de', { asYouType: true }))).toBe('"big de"*');
    expect(formatSearchQuery(parseSearchQuery('"big de"', { asYouType: true }))).toBe('"big de"');
    expect(formatSearchQuery(parseSearchQuery('rep ', { asYouType: true }))).toBe('rep');
  });
});
