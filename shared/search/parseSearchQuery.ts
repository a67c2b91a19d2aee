/*
 * The search syntax users type (docs/search.md, "Query syntax"), one reader for both sides: the
 * server turns the terms into an FTS5 query (server/search/searchQuery.ts) and the device matches
 * them against its own index (client/search), so both find the same messages for the same text.
 */

/** One part of a query: a word or a "quoted phrase", matched as a prefix when it ended in `*`. */
export interface SearchTerm {
  readonly text: string;
  readonly phrase: boolean;
  readonly prefix: boolean;
}

/** More terms than this are dropped: each term is one more index lookup per query. */
export const MAX_SEARCH_TERMS = 16;

/** A term with no letter or digit finds nothing (the tokenizer drops everything else). */
const SEARCHABLE = /[\p{L}\p{N}]/u;

/**
 * Words (separated by white space, all must match), "quoted phrases" (the words in that order),
 * and a `*` right after a word or a closing quote for a prefix. A quote left open runs to the end
 * of the text. Anything else is part of a word.
 *
 * `asYouType`: the last word is a prefix too when the text does not end in white space or a
 * closing quote (a search box that searches on each key).
 */
export function parseSearchQuery(text: string, { asYouType = false }: { readonly asYouType?: boolean } = {}): SearchTerm[] {
  const terms: SearchTerm[] = [];
  const push = (raw: string, phrase: boolean, prefix: boolean): void => {
    const trimmed = raw.trim();
    if (SEARCHABLE.test(trimmed) && terms.length < MAX_SEARCH_TERMS) terms.push({ text: trimmed, phrase, prefix });
  };
  let i = 0;
  let lastIsOpenWord = false;
  while (i < text.length) {
    const c = text[i]!;
    lastIsOpenWord = false;
    if (/\s/u.test(c)) {
      i++;
    } else if (c === '"') {
      const close = text.indexOf('"', i + 1);
      const end = close === -1 ? text.length : close;
      const prefix = close !== -1 && text[close + 1] === '*';
      push(text.slice(i + 1, end), true, prefix);
      // A quote still open as the user types is a phrase being typed: its last word may be a prefix.
      lastIsOpenWord = close === -1 && !/\s$/u.test(text);
      i = end + 1 + (prefix ? 1 : 0);
    } else {
      let end = i;
      while (end < text.length && !/\s/u.test(text[end]!) && text[end] !== '"') end++;
      const word = text.slice(i, end);
      const prefix = word.length > 1 && word.endsWith('*');
      const before = terms.length;
      push(prefix ? word.replace(/\*+$/, '') : word, false, prefix);
      lastIsOpenWord = end === text.length && terms.length > before;
      i = end;
    }
  }
  const last = terms.at(-1);
  if (asYouType && lastIsOpenWord && last && !last.prefix) terms[terms.length - 1] = { ...last, prefix: true };
  return terms;
}

/**
 * The terms written back as text the server reads the same way (for `asYouType`, whose prefix
 * the server's syntax spells with `*`).
 */
export function formatSearchQuery(terms: readonly SearchTerm[]): string {
  return terms
    .map((t) => {
      const text = t.phrase ? `"${t.text.replaceAll('"', ' ')}"` : t.text;
      return t.prefix ? `${text}*` : text;
    })
    .join(' ');
}
