import type { QueryMatcher } from './QueryMatcher.ts';
import { searchTokens } from './searchTokens.ts';

/**
 * A piece of a snippet: plain text, and whether it matched the query. A UI renders each piece as
 * a text node (a matched one inside a <mark>): HTML written in a message stays text, never markup.
 */
export interface TextSegment {
  readonly text: string;
  readonly match: boolean;
}

/** Words of context kept before the first match of a long message, and words in all (the server's snippet keeps 24). */
const WORDS_BEFORE = 8;
const SNIPPET_WORDS = 24;
const ELLIPSIS = '…';

/**
 * The snippet of a message found on the device: up to SNIPPET_WORDS words around its first match
 * (the whole text when it is that short), `…` where text was cut, matched words marked.
 */
export function localSnippet(content: string, matcher: QueryMatcher): TextSegment[] {
  const tokens = searchTokens(content);
  const marks = matcher.marks(tokens);
  const first = Math.max(0, marks.indexOf(true));
  const from = tokens.length <= SNIPPET_WORDS ? 0 : Math.max(0, Math.min(first - WORDS_BEFORE, tokens.length - SNIPPET_WORDS));
  const to = Math.min(tokens.length, from + SNIPPET_WORDS);
  const start = from === 0 ? 0 : tokens[from]!.start;
  const end = to === tokens.length ? content.length : tokens[to - 1]!.end;
  const ranges: Array<[number, number]> = [];
  for (let i = from; i < to; i++) {
    if (!marks[i]) continue;
    const token = tokens[i]!;
    const last = ranges.at(-1);
    // Words of one phrase next to each other read as one highlight, like the server's.
    if (last && marks[i - 1] && i - 1 >= from && content.slice(start + last[1], token.start).trim() === '') last[1] = token.end - start;
    else ranges.push([token.start - start, token.end - start]);
  }
  const segments = segmentsOf(content.slice(start, end), ranges);
  if (from > 0) segments.unshift({ text: ELLIPSIS, match: false });
  if (end < content.length) segments.push({ text: ELLIPSIS, match: false });
  return joinPlain(segments);
}

/**
 * A snippet as the server sends it (GET /api/search: plain text and [start, end) ranges) as
 * segments. Ranges out of order, overlapping or out of bounds are clipped, never trusted.
 */
export function segmentsOf(snippet: string, highlights: ReadonlyArray<readonly [number, number]>): TextSegment[] {
  const segments: TextSegment[] = [];
  let at = 0;
  for (const [rawStart, rawEnd] of [...highlights].sort((a, b) => a[0] - b[0])) {
    const start = Math.max(at, Math.min(rawStart, snippet.length));
    const end = Math.min(rawEnd, snippet.length);
    if (end <= start) continue;
    if (start > at) segments.push({ text: snippet.slice(at, start), match: false });
    segments.push({ text: snippet.slice(start, end), match: true });
    at = end;
  }
  if (at < snippet.length || segments.length === 0) segments.push({ text: snippet.slice(at), match: false });
  return segments;
}

/** Neighbouring unmatched pieces as one. */
function joinPlain(segments: readonly TextSegment[]): TextSegment[] {
  const out: TextSegment[] = [];
  for (const segment of segments) {
    const last = out.at(-1);
    if (last && !last.match && !segment.match) out[out.length - 1] = { text: last.text + segment.text, match: false };
    else if (segment.text !== '') out.push(segment);
  }
  return out;
}
