/*
 * FTS5's snippet() marks matches by wrapping them in strings we choose. Instead of markup we use
 * two private-use characters, then strip them into character ranges: the answer is plain text
 * plus [start, end) pairs, so a client never parses HTML from a message (docs/search.md).
 */

/** Opens a match in snippet() output. Message text is indexed with these two replaced (sanitizeForIndex). */
export const MATCH_START = '\uE000';
/** Closes a match in snippet() output. */
export const MATCH_END = '\uE001';

/** Stands in for a marker character written in a message, so a message cannot fake a highlight. */
const REPLACEMENT = '\uFFFD';

/** The text as indexed: the marker characters replaced (nothing else changes). */
export const sanitizeForIndex = (content: string): string => content.replace(/[\uE000\uE001]/g, REPLACEMENT);

export interface HighlightedSnippet {
  readonly snippet: string;
  /** [start, end) in UTF-16 code units of `snippet`; in order, not overlapping, never empty. */
  readonly highlights: Array<[number, number]>;
}

/** Strips the markers from a snippet() result into plain text and the ranges they enclosed. */
export function splitHighlights(marked: string): HighlightedSnippet {
  let snippet = '';
  const highlights: Array<[number, number]> = [];
  let start: number | null = null;
  for (const c of marked) {
    if (c === MATCH_START) {
      start ??= snippet.length;
    } else if (c === MATCH_END) {
      if (start !== null && snippet.length > start) {
        const last = highlights.at(-1);
        // Adjacent matches (two tokens in a phrase) read as one highlight.
        if (last && last[1] === start) last[1] = snippet.length;
        else highlights.push([start, snippet.length]);
      }
      start = null;
    } else {
      snippet += c;
    }
  }
  return { snippet, highlights };
}
