import type { AuthUser } from './TokenVerifier.ts';

/** How many verified tokens are remembered (a token is a few hundred bytes). */
const DEFAULT_MAX_ENTRIES = 4_096;
/** A token without `exp` is verified again after this long. */
const DEFAULT_KEEP_MS = 10 * 60_000;

/**
 * Tokens already verified, by their exact text, until they expire: a device opens many sockets with
 * one token (a stock client a socket per document, a reader paging back through a big room's
 * segments one socket each), and an HS256 check through WebCrypto costs 0.1 ms and more of the
 * main thread each time. Only a signature check can be remembered this way: the same text has the
 * same signature and claims, and the one claim that changes its verdict with time, `exp`, is kept
 * with it (a token whose `nbf` had not passed was refused, so it is not here). A host's own
 * `verifyToken` is never cached: it may revoke.
 */
export class VerifiedTokens {
  readonly #entries = new Map<string, { readonly user: AuthUser; readonly untilMs: number }>();
  readonly #maxEntries: number;
  readonly #keepMs: number;
  readonly #now: () => number;

  constructor(opts: { maxEntries?: number; keepMs?: number; now?: () => number } = {}) {
    this.#maxEntries = opts.maxEntries ?? DEFAULT_MAX_ENTRIES;
    this.#keepMs = opts.keepMs ?? DEFAULT_KEEP_MS;
    this.#now = opts.now ?? (() => Date.now());
  }

  /** The user of a token verified before and not expired since; undefined otherwise. */
  get(token: string): AuthUser | undefined {
    const entry = this.#entries.get(token);
    if (!entry) return undefined;
    if (this.#now() >= entry.untilMs) {
      this.#entries.delete(token);
      return undefined;
    }
    return entry.user;
  }

  /** Remembers a token just verified; `expSeconds` is its `exp` claim, if it has one. */
  set(token: string, user: AuthUser, expSeconds: number | undefined): void {
    const now = this.#now();
    const untilMs = Math.min(expSeconds === undefined ? Infinity : expSeconds * 1000, now + this.#keepMs);
    if (untilMs <= now) return;
    this.#entries.delete(token);
    // The oldest remembered goes first (a Map keeps insertion order).
    if (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
    this.#entries.set(token, { user, untilMs });
  }
}
