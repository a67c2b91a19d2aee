/*
 * How the device's index splits and folds text, chosen to behave like the server's FTS5 tokenizer
 * (`unicode61 remove_diacritics 2`, docs/search.md): words are runs of letters and digits (with
 * their combining marks), case-folded, diacritics removed, so `creme` finds `Crème`. Not
 * stemmed, like the server.
 */

/** A word of a text: its place ([start, end) in UTF-16 code units) and its folded form. */
export interface TextToken {
  readonly start: number;
  readonly end: number;
  readonly term: string;
}

const WORD = /[\p{L}\p{N}\p{M}]+/gu;
const MARKS = /\p{M}+/gu;

/** The folded form of a word: decomposed, marks dropped, lower case. */
export const foldTerm = (word: string): string => word.normalize('NFD').replace(MARKS, '').toLowerCase();

/** The words of a text in order, each with its place and folded form (words that fold to nothing are left out). */
export function searchTokens(text: string): TextToken[] {
  const tokens: TextToken[] = [];
  for (const match of text.matchAll(WORD)) {
    const term = foldTerm(match[0]);
    if (term !== '') tokens.push({ start: match.index, end: match.index + match[0].length, term });
  }
  return tokens;
}
