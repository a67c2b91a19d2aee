/*
 * The search syntax users type (docs/search.md, "Query syntax"), turned into an FTS5 query built
 * only of quoted strings: the user's text never reaches MATCH as syntax, so `AND`, `NEAR`,
 * `col:`, `^`, parentheses or a stray quote are words to look for, never operators or errors.
 */
import type { SearchTerm } from '../../shared/search/parseSearchQuery.ts';

/** An FTS5 string literal: double quotes around, each quote inside doubled. */
const quoted = (text: string): string => `"${text.replaceAll('"', '""')}"`;

/** The FTS5 query for the terms (implicit AND of quoted strings), or null when nothing is searchable. */
export function toFtsQuery(terms: readonly SearchTerm[]): string | null {
  if (terms.length === 0) return null;
  return terms.map((t) => quoted(t.text) + (t.prefix ? '*' : '')).join(' ');
}
