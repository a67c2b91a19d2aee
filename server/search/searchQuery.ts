/*
 * The search syntax users type (docs/search.md, "Query syntax"), turned into each backend's query
 * built only of quoted strings: the user's text never reaches MATCH (SQLite) or a tsquery
 * (PostgreSQL) as syntax, so `AND`, `NEAR`, `col:`, `^`, `&|!():<>`, parentheses or a stray quote
 * are words to look for, never operators or errors.
 */
import type { SearchTerm } from '../../shared/search/parseSearchQuery.ts';
import { wordsOf } from './searchWords.ts';

/** An FTS5 string literal: double quotes around, each quote inside doubled. */
const quoted = (text: string): string => `"${text.replaceAll('"', '""')}"`;

/** The FTS5 query for the terms (implicit AND of quoted strings), or null when nothing is searchable. */
export function toFtsQuery(terms: readonly SearchTerm[]): string | null {
  if (terms.length === 0) return null;
  return terms.map((t) => quoted(t.text) + (t.prefix ? '*' : '')).join(' ');
}

/**
 * A term as the words it must match in order (one word, or a phrase: a "quoted phrase", or a
 * word the tokenizer splits, as `foo-bar`), the last one as a prefix when the term is one: what an
 * FTS5 string is.
 */
export interface TermWords {
  readonly lexemes: readonly string[];
  readonly prefix: boolean;
}

/** The terms as folded words (searchWords.ts); a term that holds no word is dropped. */
export const termWordsOf = (terms: readonly SearchTerm[]): TermWords[] =>
  terms.flatMap((t) => {
    const lexemes = wordsOf(t.text).map((w) => w.lexeme);
    return lexemes.length === 0 ? [] : [{ lexemes, prefix: t.prefix }];
  });

/**
 * A tsvector/tsquery lexeme literal: single quotes around, a quote inside doubled and a backslash
 * escaped, so that whatever it holds is one lexeme, never an operator, a weight or a prefix mark.
 * (The folded words hold letters, digits and marks only; the escape is for everything else.)
 */
export const tsLexeme = (lexeme: string): string => `'${lexeme.replaceAll('\\', '\\\\').replaceAll("'", "''")}'`;

/**
 * The PostgreSQL tsquery for the terms, or null when nothing is searchable: every term must match
 * (`&`); a term of several words is a phrase (`<->` between its words, in parentheses); a prefix
 * term's last word ends in `:*`. Each word is a quoted lexeme (tsLexeme), already folded as the
 * index's words are (the query is cast with `::tsquery`, which normalizes nothing).
 */
export function toTsQuery(terms: readonly SearchTerm[]): string | null {
  const words = termWordsOf(terms);
  if (words.length === 0) return null;
  return words
    .map(({ lexemes, prefix }) => {
      const operands = lexemes.map((lexeme, i) => tsLexeme(lexeme) + (prefix && i === lexemes.length - 1 ? ':*' : ''));
      return operands.length === 1 ? operands[0] : `(${operands.join(' <-> ')})`;
    })
    .join(' & ');
}
