import type { DirectoryApi } from '../storage/DirectoryApi.ts';
import { type AccessDecision, checkRoomAccess } from './checkRoomAccess.ts';

/** A check that keeps being overtaken by rechecks is taken as it stands after this many rounds. */
const MAX_ROUNDS = 8;

/**
 * Room access for one endpoint, now that a check reads the directory asynchronously: a check may
 * still be reading when a membership change is rechecked (REST), and two rechecks of one member
 * may resolve out of order (PostgreSQL answers each on its own connection). Two rules keep the
 * directory's later state the one that applies:
 *
 * - `check` (an open, an admission, a command) reads again when a recheck began while it read, so
 *   whatever it lets in has been checked after every recheck that could have missed it (a recheck
 *   closes only the peers attached when it resolves);
 * - `recheck` of a room's member resolves with null when a later recheck of the same member began
 *   meanwhile: only the latest one is acted on.
 */
export class AccessGuard {
  readonly #directory: DirectoryApi;
  /** Rechecks begun so far (of any room): what `check` compares across its read. */
  #rechecks = 0;
  /** The latest recheck of each room member still reading: key -> its number. */
  readonly #latest = new Map<string, number>();

  constructor(directory: DirectoryApi) {
    this.#directory = directory;
  }

  /** How many rechecks have begun: unchanged across a check means no recheck overlapped it. */
  get rechecks(): number {
    return this.#rechecks;
  }

  /** checkRoomAccess, read again while a recheck began during the read (see the class). */
  async check(docName: string, userId: string): Promise<AccessDecision> {
    for (let round = 1; ; round++) {
      const before = this.#rechecks;
      const decision = await checkRoomAccess(this.#directory, docName, userId);
      if (before === this.#rechecks || round >= MAX_ROUNDS) return decision;
    }
  }

  /** A room changed (deactivated, say): checks running now read again. */
  roomChanged(): void {
    this.#rechecks++;
  }

  /**
   * Reads a member's access after a change: the decision, or null when a later recheck of the same
   * member began meanwhile (that one decides).
   */
  async recheck(roomId: string, userId: string): Promise<AccessDecision | null> {
    const ticket = ++this.#rechecks;
    const key = `${roomId}\u0000${userId}`;
    this.#latest.set(key, ticket);
    try {
      const decision = await checkRoomAccess(this.#directory, roomId, userId);
      return this.#latest.get(key) === ticket ? decision : null;
    } finally {
      if (this.#latest.get(key) === ticket) this.#latest.delete(key);
    }
  }
}
