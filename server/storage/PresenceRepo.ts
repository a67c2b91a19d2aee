import { z } from 'zod';
import { UserIdSchema } from '../../shared/ids.ts';
import type { Timestamp } from '../../shared/models/timestamps.ts';
import type { Db } from './openDatabase.ts';
import { SqlTimestamp, jsonIdList, parseRow } from './sqlRows.ts';
import type { UserRepo } from './UserRepo.ts';

/** The persisted half of a UserPresence; `is_online` lives in memory (PresenceTracker). */
export interface StoredPresence {
  /** When the user's last connection closed; null while never seen. */
  last_seen_at: Timestamp | null;
  /** Custom status text; null when none is set. */
  status: string | null;
}

/** Row schema, shared with PgPresenceRepo. */
export const PresenceRowSchema = z.object({
  user_id: UserIdSchema,
  last_seen_at: SqlTimestamp.nullable(),
  status: z.string().nullable(),
});

/** What a user never seen reads as. */
export const NEVER_SEEN: StoredPresence = Object.freeze({ last_seen_at: null, status: null });

/** The `presence` table: last seen time and custom status text per user. */
export class PresenceRepo {
  readonly #get;
  readonly #getMany;
  readonly #setLastSeen;
  readonly #setStatus;

  constructor(db: Db, users: UserRepo) {
    this.#get = db.prepare<[string]>(`SELECT user_id, last_seen_at, status FROM presence WHERE user_id = ?`);
    this.#getMany = db.prepare<[string]>(
      `SELECT user_id, last_seen_at, status FROM presence WHERE user_id IN (SELECT value FROM json_each(?))`,
    );
    // Last seen never moves backwards: two server processes may report one user's
    // disconnects out of order.
    const upsertLastSeen = db.prepare<{ userId: string; ms: number }>(
      `INSERT INTO presence (user_id, last_seen_at) VALUES (@userId, @ms)
       ON CONFLICT (user_id) DO UPDATE SET last_seen_at = max(coalesce(presence.last_seen_at, 0), excluded.last_seen_at)`,
    );
    const upsertStatus = db.prepare<{ userId: string; status: string | null }>(
      `INSERT INTO presence (user_id, status) VALUES (@userId, @status)
       ON CONFLICT (user_id) DO UPDATE SET status = excluded.status`,
    );
    // presence.user_id references users(id): make sure the row exists, so a caller that did
    // not upsert the user first gets a placeholder rather than a foreign-key failure.
    this.#setLastSeen = db.transaction((userId: string, ms: number) => {
      users.ensure([userId]);
      upsertLastSeen.run({ userId, ms });
    });
    this.#setStatus = db.transaction((userId: string, status: string | null) => {
      users.ensure([userId]);
      upsertStatus.run({ userId, status });
    });
  }

  /** The stored presence; both fields null for a user never seen. */
  get(userId: string): StoredPresence {
    const row = this.#get.get(userId);
    if (row === undefined) return NEVER_SEEN;
    const { last_seen_at, status } = parseRow(PresenceRowSchema, row, 'presence');
    return { last_seen_at, status };
  }

  /** Stored presence of each of `userIds` (never-seen users map to nulls), in one query. */
  getMany(userIds: readonly string[]): Map<string, StoredPresence> {
    const result = new Map<string, StoredPresence>(userIds.map((id) => [id, NEVER_SEEN]));
    if (userIds.length === 0) return result;
    for (const row of this.#getMany.all(jsonIdList(userIds))) {
      const { user_id, last_seen_at, status } = parseRow(PresenceRowSchema, row, 'presence');
      result.set(user_id, { last_seen_at, status });
    }
    return result;
  }

  /** Records when the user's last connection closed (ignored if older than the stored value). */
  setLastSeen(userId: string, ms: number): void {
    this.#setLastSeen(userId, ms);
  }

  /** Sets or (with null) clears the custom status text. */
  setStatus(userId: string, status: string | null): void {
    this.#setStatus(userId, status);
  }
}
