/*
 * FTS5's snippet() for the PostgreSQL index (docs/search.md, "On PostgreSQL"): a window of words
 * around the matches, the matches wrapped in MATCH_START / MATCH_END, `…` where text was cut.
 * PostgreSQL's ts_headline would parse the message again with its own parser, which splits words
 * otherwise and folds no diacritics, so a message found for `creme` would come back with `Crème`
 * unmarked; this works on the same words the index holds (searchWords.ts).
 */
import type { TermWords } from './searchQuery.ts';
import { MATCH_END, MATCH_START } from './snippetHighlights.ts';
import { type Word, wordsOf } from './searchWords.ts';

/** One match of a term: its first and last word (indices into the message's words). */
interface Match {
  readonly first: number;
  readonly last: number;
  readonly term: number;
}

const matchesAt = (words: readonly Word[], at: number, { lexemes, prefix }: TermWords): boolean =>
  lexemes.every((lexeme, j) => {
    const word = words[at + j]?.lexeme;
    if (word === undefined) return false;
    return prefix && j === lexemes.length - 1 ? word.startsWith(lexeme) : word === lexeme;
  });

/** Every match of every term, in word order. */
function matchesOf(words: readonly Word[], terms: readonly TermWords[]): Match[] {
  const matches: Match[] = [];
  for (let at = 0; at < words.length; at++) {
    terms.forEach((term, i) => {
      if (matchesAt(words, at, term)) matches.push({ first: at, last: at + term.lexemes.length - 1, term: i });
    });
  }
  return matches;
}

/**
 * The first word of the window of `size` words: the one holding the most distinct terms (the
 * earliest of equals), then moved so that its matches sit in its middle, as FTS5 places it.
 */
function windowStart(count: number, matches: readonly Match[], size: number): number {
  if (count <= size || matches.length === 0) return 0;
  let best: { start: number; score: number; first: number; last: number } | null = null;
  for (const candidate of matches) {
    const start = candidate.first;
    const inside = matches.filter((m) => m.first >= start && m.last < start + size);
    const score = new Set(inside.map((m) => m.term)).size;
    if (!best || score > best.score) best = { start, score, first: start, last: Math.max(...inside.map((m) => m.last), start) };
  }
  if (!best) return 0;
  const centred = best.first - Math.floor((size - (best.last - best.first + 1)) / 2);
  return Math.max(0, Math.min(centred, count - size));
}

/**
 * The snippet of `content` for a search of `terms`: at most `size` words, from the start of the
 * text when the window starts at its first word and to its end when it ends at its last, `…`
 * elsewhere; each match (a phrase's words and what lies between them) in MATCH_START / MATCH_END.
 */
export function markedSnippet(content: string, terms: readonly TermWords[], size: number): string {
  const words = wordsOf(content);
  if (words.length === 0) return content;
  const matches = matchesOf(words, terms);
  const start = windowStart(words.length, matches, size);
  const end = Math.min(words.length, start + size) - 1;
  const from = start === 0 ? 0 : words[start]!.start;
  const to = end === words.length - 1 ? content.length : words[end]!.end;
  // Matches inside the window, overlapping ones merged (FTS5 marks an overlap once).
  const spans: Array<{ first: number; last: number }> = [];
  for (const m of matches) {
    if (m.first < start || m.last > end) continue;
    const previous = spans.at(-1);
    if (previous && m.first <= previous.last) previous.last = Math.max(previous.last, m.last);
    else spans.push({ first: m.first, last: m.last });
  }
  let out = start === 0 ? '' : '…';
  let at = from;
  for (const span of spans) {
    const open = words[span.first]!.start;
    const close = words[span.last]!.end;
    out += `${content.slice(at, open)}${MATCH_START}${content.slice(open, close)}${MATCH_END}`;
    at = close;
  }
  out += content.slice(at, to);
  return end === words.length - 1 ? out : `${out}…`;
}
