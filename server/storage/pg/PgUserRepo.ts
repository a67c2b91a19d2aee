import type { User } from '../../../shared/models/user.ts';
import { parseRow } from '../sqlRows.ts';
import { likePrefix, NamedUserRowSchema, type UserRepo } from '../UserRepo.ts';
import type { AsyncApi } from '../AsyncApi.ts';
import type { Queryable } from './pgRepos.ts';
import { sqlLimit } from './pgTransactions.ts';

/**
 * An INSERT of a placeholder user (name NULL) for each id of the text[] expression `ids` not seen
 * yet, at `now` (a bigint expression); existing users are untouched. Ids go in sorted, so two
 * writers ensuring overlapping users wait on each other's rows in one order, never in a cycle.
 * A statement of its own, or the body of a CTE in front of a write whose foreign key needs the users
 * (PgMemberRepo.insert, PgPresenceRepo): the key is checked at the statement's end, and sees them.
 */
export const insertPlaceholders = (ids: string, now: string): string =>
  `INSERT INTO users (id, name, created_at, updated_at)
   SELECT id, NULL, ${now}, ${now} FROM unnest(${ids}) AS id ORDER BY id COLLATE "C"
   ON CONFLICT (id) DO NOTHING`;

/**
 * A WITH clause to put in front of a write whose foreign key needs user `user` (a text parameter):
 * their row, a placeholder created at `now` (a bigint parameter) if never seen.
 */
export const withPlaceholderUser = (user: string, now: string): string => `WITH placeholders AS (${insertPlaceholders(`ARRAY[${user}::text]`, `${now}::bigint`)})`;

/** The name with A-Z folded to a-z, compared byte by byte: SQLite's NOCASE. Indexed (schema step 4). */
const FOLDED_NAME = `lower(name COLLATE "C")`;

/** Folds A-Z to a-z and nothing else, as FOLDED_NAME and SQLite's LIKE do. */
const foldAscii = (text: string): string => text.replace(/[A-Z]/g, (ch) => ch.toLowerCase());

/**
 * The `users` table on PostgreSQL: UserRepo's contract (see there). Names compare as in SQLite:
 * `findByName` byte for byte, `searchByNamePrefix` case-insensitive for ASCII letters only (SQLite's
 * LIKE) and ordered by the name with ASCII letters folded (NOCASE), whatever the database's locale:
 * `lower()` under COLLATE "C" folds A-Z alone. Schema step 4 indexes that folded name, so the prefix
 * search is an index range scan where SQLite scans the table.
 */
export class PgUserRepo implements AsyncApi<UserRepo> {
  readonly #db: Queryable;

  constructor(db: Queryable) {
    this.#db = db;
  }

  /** Creates the user or refreshes their display name; an unchanged name does not rewrite the row. */
  async upsert(user: { id: string; name: string }, now: number = Date.now()): Promise<void> {
    await this.#db.query(
      `INSERT INTO users (id, name, created_at, updated_at) VALUES ($1, $2, $3, $3)
       ON CONFLICT (id) DO UPDATE SET name = excluded.name, updated_at = excluded.updated_at
       WHERE users.name IS DISTINCT FROM excluded.name`,
      [user.id, user.name, now],
    );
  }

  /** Creates placeholder rows (name NULL) for ids not seen yet; existing users are untouched. */
  async ensure(ids: readonly string[], now: number = Date.now()): Promise<void> {
    if (ids.length > 0) await this.#db.query(insertPlaceholders('$1::text[]', '$2::bigint'), [ids, now]);
  }

  /** The user, or null when the id is unknown or the user has never authenticated (no name yet). */
  async get(id: string): Promise<User | null> {
    const { rows } = await this.#db.query('SELECT id, name FROM users WHERE id = $1 AND name IS NOT NULL', [id]);
    return rows[0] === undefined ? null : parseRow(NamedUserRowSchema, rows[0], 'users');
  }

  /** The named users among `ids` (unknown and never-authenticated ids are absent). */
  async getMany(ids: readonly string[]): Promise<Map<string, User>> {
    const users = new Map<string, User>();
    if (ids.length === 0) return users;
    const { rows } = await this.#db.query('SELECT id, name FROM users WHERE id = ANY($1::text[]) AND name IS NOT NULL', [ids]);
    for (const row of rows) {
      const user = parseRow(NamedUserRowSchema, row, 'users');
      users.set(user.id, user);
    }
    return users;
  }

  /** The oldest user with exactly this name (ties by id, byte order). */
  async findByName(name: string): Promise<User | null> {
    const { rows } = await this.#db.query('SELECT id, name FROM users WHERE name = $1 ORDER BY created_at, id COLLATE "C" LIMIT 1', [name]);
    return rows[0] === undefined ? null : parseRow(NamedUserRowSchema, rows[0], 'users');
  }

  /** Users whose name starts with `prefix` (case-insensitive for ASCII letters), by name as SQLite's NOCASE orders it. */
  async searchByNamePrefix(prefix: string, limit = 20): Promise<User[]> {
    const { rows } = await this.#db.query(
      `SELECT id, name FROM users WHERE ${FOLDED_NAME} LIKE $1 ESCAPE '\\'
       ORDER BY ${FOLDED_NAME}, id COLLATE "C" LIMIT $2`,
      [foldAscii(likePrefix(prefix)), sqlLimit(limit)],
    );
    return rows.map((row) => parseRow(NamedUserRowSchema, row, 'users'));
  }
}
