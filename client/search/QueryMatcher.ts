import type { SearchTerm } from '../../shared/search/parseSearchQuery.ts';
import { searchTokens, type TextToken } from './searchTokens.ts';

/** A term as folded words: one for a word, several for a phrase (or a word with punctuation inside, which the server reads as a phrase). */
interface FoldedTerm {
  readonly words: readonly string[];
  /** The last word is matched as a prefix. */
  readonly prefix: boolean;
}

/**
 * What a parsed query asks of a message's text, checked on the text itself: the index (MiniSearch)
 * knows words, not their order, so a phrase is found as its words and then kept only where they
 * stand in order; and the same check says which words of a snippet to mark.
 */
export class QueryMatcher {
  readonly terms: readonly SearchTerm[];
  readonly #folded: readonly FoldedTerm[];

  constructor(terms: readonly SearchTerm[]) {
    this.terms = terms;
    this.#folded = terms.map((t) => ({ words: searchTokens(t.text).map((w) => w.term), prefix: t.prefix })).filter((t) => t.words.length > 0);
  }

  /** Whether there is anything to look for (a text of punctuation only has not). */
  get empty(): boolean {
    return this.#folded.length === 0;
  }

  /** Whether every term occurs in the text, each phrase's words in order. */
  holds(content: string): boolean {
    const tokens = searchTokens(content);
    return this.#folded.every((term) => tokens.some((_, i) => matchesAt(tokens, i, term)));
  }

  /** For each token, whether it is part of an occurrence of a term (what a snippet marks). */
  marks(tokens: readonly TextToken[]): boolean[] {
    const marked: boolean[] = tokens.map(() => false);
    for (const term of this.#folded) {
      for (let i = 0; i < tokens.length; i++) {
        if (!matchesAt(tokens, i, term)) continue;
        for (let k = 0; k < term.words.length; k++) marked[i + k] = true;
      }
    }
    return marked;
  }
}

function matchesAt(tokens: readonly TextToken[], at: number, { words, prefix }: FoldedTerm): boolean {
  if (at + words.length > tokens.length) return false;
  return words.every((word, k) => {
    const token = tokens[at + k]!.term;
    return prefix && k === words.length - 1 ? token.startsWith(word) : token === word;
  });
}
