import { z } from 'zod';
import { UserIdSchema } from '../../shared/ids.ts';
import type { User } from '../../shared/models/user.ts';
import type { Db } from './openDatabase.ts';
import { jsonIdList, parseRow } from './sqlRows.ts';

/** Only named users are Users: a row whose name is still NULL is a placeholder (see `get`). Shared with PgUserRepo. */
export const NamedUserRowSchema = z.object({ id: UserIdSchema, name: z.string().min(1) });

/** `%`, `_` and the escape character itself (a backslash) are literal in a name prefix. Shared with PgUserRepo. */
export const likePrefix = (prefix: string): string => prefix.replace(/[\\%_]/g, (ch) => `\\${ch}`) + '%';

/**
 * The `users` table. A row is created with a NULL name when someone is added to a room before
 * they ever authenticate, and named on their first authenticated request.
 */
export class UserRepo {
  readonly #upsert;
  readonly #ensure;
  readonly #get;
  readonly #getMany;
  readonly #byName;
  readonly #search;

  constructor(db: Db) {
    // The WHERE keeps the common case (same name as last time) from rewriting the row on
    // every authenticated request.
    this.#upsert = db.prepare<{ id: string; name: string; now: number }>(
      `INSERT INTO users (id, name, created_at, updated_at) VALUES (@id, @name, @now, @now)
       ON CONFLICT (id) DO UPDATE SET name = excluded.name, updated_at = excluded.updated_at
       WHERE users.name IS NOT excluded.name`,
    );
    // `WHERE true` is SQLite's required disambiguation of INSERT ... SELECT ... ON CONFLICT.
    this.#ensure = db.prepare<{ ids: string; now: number }>(
      `INSERT INTO users (id, name, created_at, updated_at)
       SELECT value, NULL, @now, @now FROM json_each(@ids) WHERE true
       ON CONFLICT (id) DO NOTHING`,
    );
    this.#get = db.prepare<[string]>(`SELECT id, name FROM users WHERE id = ? AND name IS NOT NULL`);
    this.#getMany = db.prepare<[string]>(
      `SELECT id, name FROM users WHERE id IN (SELECT value FROM json_each(?)) AND name IS NOT NULL`,
    );
    // Several users may share a name (names come from the host app's tokens): the oldest wins,
    // so dev login stays stable.
    this.#byName = db.prepare<[string]>(`SELECT id, name FROM users WHERE name = ? ORDER BY created_at, id LIMIT 1`);
    this.#search = db.prepare<{ pattern: string; limit: number }>(
      `SELECT id, name FROM users WHERE name LIKE @pattern ESCAPE '\\'
       ORDER BY name COLLATE NOCASE, id LIMIT @limit`,
    );
  }

  /** Creates the user or refreshes their display name (from a verified token). */
  upsert(user: { id: string; name: string }, now: number = Date.now()): void {
    this.#upsert.run({ id: user.id, name: user.name, now });
  }

  /** Creates placeholder rows (name NULL) for ids not seen yet; existing users are untouched. */
  ensure(ids: readonly string[], now: number = Date.now()): void {
    if (ids.length > 0) this.#ensure.run({ ids: jsonIdList(ids), now });
  }

  /**
   * The user, or null when the id is unknown or the user has never authenticated (no name
   * yet). Callers show such users as "unknown"; `ChatMember.user` is null for them.
   */
  get(id: string): User | null {
    const row = this.#get.get(id);
    return row === undefined ? null : parseRow(NamedUserRowSchema, row, 'users');
  }

  /** The named users among `ids` (unknown and never-authenticated ids are absent). */
  getMany(ids: readonly string[]): Map<string, User> {
    const users = new Map<string, User>();
    if (ids.length === 0) return users;
    for (const row of this.#getMany.all(jsonIdList(ids))) {
      const user = parseRow(NamedUserRowSchema, row, 'users');
      users.set(user.id, user);
    }
    return users;
  }

  /** The oldest user with exactly this name. */
  findByName(name: string): User | null {
    const row = this.#byName.get(name);
    return row === undefined ? null : parseRow(NamedUserRowSchema, row, 'users');
  }

  /**
   * Users whose name starts with `prefix` (case-insensitive for ASCII, SQLite's LIKE), by name.
   * A table scan: case-insensitive LIKE cannot use the BINARY index users_by_name (which serves
   * findByName). Fine for thousands of users; a NOCASE index or FTS is the step past that.
   */
  searchByNamePrefix(prefix: string, limit = 20): User[] {
    return this.#search.all({ pattern: likePrefix(prefix), limit }).map((row) => parseRow(NamedUserRowSchema, row, 'users'));
  }
}
