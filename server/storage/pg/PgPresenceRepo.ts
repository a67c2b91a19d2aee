import { NEVER_SEEN, type PresenceRepo, PresenceRowSchema, type StoredPresence } from '../PresenceRepo.ts';
import { parseRow } from '../sqlRows.ts';
import type { AsyncApi } from '../AsyncApi.ts';
import type { Queryable } from './pgRepos.ts';
import { withPlaceholderUser } from './PgUserRepo.ts';

/**
 * The `presence` table on PostgreSQL: PresenceRepo's contract (see there). Each write is one
 * statement that also creates a placeholder user when the user was never seen (SQLite runs the
 * two in a transaction). Last seen never moves backwards, also when two nodes report one user's
 * disconnects at once: the upsert's update reads the row as it is after the other one's.
 */
export class PgPresenceRepo implements AsyncApi<PresenceRepo> {
  readonly #db: Queryable;

  constructor(db: Queryable) {
    this.#db = db;
  }

  /** The stored presence; both fields null for a user never seen. */
  async get(userId: string): Promise<StoredPresence> {
    const { rows } = await this.#db.query('SELECT user_id, last_seen_at, status FROM presence WHERE user_id = $1', [userId]);
    if (rows[0] === undefined) return NEVER_SEEN;
    const { last_seen_at, status } = parseRow(PresenceRowSchema, rows[0], 'presence');
    return { last_seen_at, status };
  }

  /** Stored presence of each of `userIds` (never-seen users map to nulls), in one query. */
  async getMany(userIds: readonly string[]): Promise<Map<string, StoredPresence>> {
    const result = new Map<string, StoredPresence>(userIds.map((id) => [id, NEVER_SEEN]));
    if (userIds.length === 0) return result;
    const { rows } = await this.#db.query('SELECT user_id, last_seen_at, status FROM presence WHERE user_id = ANY($1::text[])', [userIds]);
    for (const row of rows) {
      const { user_id, last_seen_at, status } = parseRow(PresenceRowSchema, row, 'presence');
      result.set(user_id, { last_seen_at, status });
    }
    return result;
  }

  /** Records when the user's last connection closed (ignored if older than the stored value). */
  async setLastSeen(userId: string, ms: number): Promise<void> {
    await this.#db.query(
      `${withPlaceholderUser('$1', '$3')}
       INSERT INTO presence (user_id, last_seen_at) VALUES ($1, $2)
       ON CONFLICT (user_id) DO UPDATE SET last_seen_at = greatest(coalesce(presence.last_seen_at, 0), excluded.last_seen_at)`,
      [userId, ms, Date.now()],
    );
  }

  /** Sets or (with null) clears the custom status text. */
  async setStatus(userId: string, status: string | null): Promise<void> {
    await this.#db.query(
      `${withPlaceholderUser('$1', '$3')}
       INSERT INTO presence (user_id, status) VALUES ($1, $2)
       ON CONFLICT (user_id) DO UPDATE SET status = excluded.status`,
      [userId, status, Date.now()],
    );
  }
}
