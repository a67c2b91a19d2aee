/*
 * The search syntax users type (docs/search.md, "Query syntax"), turned into an FTS5 query built
 * only of quoted strings: the user's text never reaches MATCH as syntax, so `AND`, `NEAR`,
 * `col:`, `^`, parentheses or a stray quote are words to look for, never operators or errors.
 */

/** One part of a query: a word or a "quoted phrase", matched as a prefix when it ended in `*`. */
export interface SearchTerm {
  readonly text: string;
  readonly phrase: boolean;
  readonly prefix: boolean;
}

/** More terms than this are dropped: each term is one more index lookup per query. */
export const MAX_SEARCH_TERMS = 16;

/** A term with no letter or digit would find nothing (the tokenizer drops everything else). */
const SEARCHABLE = /[\p{L}\p{N}]/u;

/**
 * Words (separated by white space, all must match), "quoted phrases" (the words in that order),
 * and a `*` right after a word or a closing quote for a prefix. A quote left open runs to the end
 * of the text. Anything else is part of a word.
 */
export function parseSearchTerms(text: string): SearchTerm[] {
  const terms: SearchTerm[] = [];
  const push = (raw: string, phrase: boolean, prefix: boolean): void => {
    const trimmed = raw.trim();
    if (SEARCHABLE.test(trimmed) && terms.length < MAX_SEARCH_TERMS) terms.push({ text: trimmed, phrase, prefix });
  };
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/u.test(c)) {
      i++;
    } else if (c === '"') {
      const close = text.indexOf('"', i + 1);
      const end = close === -1 ? text.length : close;
      const prefix = close !== -1 && text[close + 1] === '*';
      push(text.slice(i + 1, end), true, prefix);
      i = end + 1 + (prefix ? 1 : 0);
    } else {
      let end = i;
      while (end < text.length && !/\s/u.test(text[end]!) && text[end] !== '"') end++;
      const word = text.slice(i, end);
      const prefix = word.length > 1 && word.endsWith('*');
      push(prefix ? word.replace(/\*+$/, '') : word, false, prefix);
      i = end;
    }
  }
  return terms;
}

/** An FTS5 string literal: double quotes around, each quote inside doubled. */
const quoted = (text: string): string => `"${text.replaceAll('"', '""')}"`;

/** The FTS5 query for the terms (implicit AND of quoted strings), or null when nothing is searchable. */
export function toFtsQuery(terms: readonly SearchTerm[]): string | null {
  if (terms.length === 0) return null;
  return terms.map((t) => quoted(t.text) + (t.prefix ? '*' : '')).join(' ');
}
