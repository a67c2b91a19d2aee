/*
 * The words of a message as the search index sees them on PostgreSQL (docs/search.md, "On
 * PostgreSQL"): SQLite's FTS5 tokenizer (`unicode61 remove_diacritics 2`) done in JavaScript, so
 * that both backends split, fold and match the same words. PostgreSQL's own parser does not
 * (it keeps `ana@example.com` or `example.com/path` as one word and folds no diacritics without
 * the unaccent extension); here it receives finished lexemes (PgSearchRepo.ts, toTsQuery).
 */

/** A word of a text: where it is (UTF-16 offsets into the text) and its folded form. */
export interface Word {
  readonly lexeme: string;
  readonly start: number;
  readonly end: number;
}

/**
 * Letters, digits, private-use characters (unicode61's default token characters) and combining
 * marks (so a word written with decomposed accents stays one word): everything else separates.
 */
const WORD = /[\p{L}\p{N}\p{M}\p{Co}]+/gu;

/** Combining diacritical marks (U+0300–U+036F): what folding `é` to `e` removes after decomposition. */
const DIACRITICS = /[\u0300-\u036f]/g;

/** A word folded as unicode61 with remove_diacritics 2 folds it: lower case, Latin diacritics removed. */
export const foldWord = (word: string): string => word.toLowerCase().normalize('NFD').replace(DIACRITICS, '').normalize('NFC');

/** The words of `text`, in order; a word that folds to nothing (only marks) is no word. */
export function wordsOf(text: string): Word[] {
  const words: Word[] = [];
  for (const match of text.matchAll(WORD)) {
    const lexeme = foldWord(match[0]);
    if (lexeme.length > 0) words.push({ lexeme, start: match.index, end: match.index + match[0].length });
  }
  return words;
}
