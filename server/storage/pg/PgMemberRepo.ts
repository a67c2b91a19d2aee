import { uuidv4 } from '../../../shared/ids.ts';
import { type ChatMember, type ChatMemberInDB, type ChatMemberRole } from '../../../shared/models/chatMember.ts';
import {
  AudienceRowSchema,
  CountRowSchema,
  MEMBER_COLUMNS,
  MEMBERSHIP_COLUMNS,
  type Membership,
  MembershipRowSchema,
  MEMBERS_WITH_USERS,
  MemberRowSchema,
  type MemberRepo,
  type PersonalRoomState,
  PersonalRowSchema,
  RoomIdRowSchema,
  SUCCESSION_RANK,
  toChatMember,
  UserIdRowSchema,
} from '../MemberRepo.ts';
import { parseRow } from '../sqlRows.ts';
import type { AsyncApi } from '../AsyncApi.ts';
import type { Queryable } from './pgRepos.ts';
import type { Freshen } from './PgRoomRepo.ts';
import { withPlaceholderUser } from './PgUserRepo.ts';

/** The member of a row of MEMBER_COLUMNS, or null for no row. */
const memberOf = (row: unknown): ChatMemberInDB | null => (row === undefined ? null : parseRow(MemberRowSchema, row, 'members'));

/** A count of the first row (0 for no row, as SQLite's repository answers for no such member). */
const countOf = (rows: readonly unknown[]): number => (rows[0] === undefined ? 0 : parseRow(CountRowSchema, rows[0], 'members').n);

/**
 * The `members` table on PostgreSQL: MemberRepo's contract (see there), with the same columns, row
 * schemas and order; where SQLite breaks ties of `created_at` by rowid (insertion order), `seq` does.
 * The guarded writes (`setLastReadAt` only forward, `setMuted` only a change) are one UPDATE whose
 * WHERE PostgreSQL checks again on the newest row when another transaction changed it meanwhile, so
 * a read position never moves backwards even when two nodes write it at once.
 */
export class PgMemberRepo implements AsyncApi<MemberRepo> {
  readonly #db: Queryable;
  readonly #freshen: Freshen;

  constructor(db: Queryable, freshen: Freshen = () => {}) {
    this.#db = db;
    this.#freshen = freshen;
  }

  async #rows(sql: string, values: readonly unknown[]): Promise<unknown[]> {
    return (await this.#db.query(sql, [...values])).rows;
  }

  /** The membership row, for access checks and the like (last_read_at may lag; see MemberRepo.get). */
  async get(roomId: string, userId: string): Promise<ChatMemberInDB | null> {
    const [row] = await this.#rows(`SELECT ${MEMBER_COLUMNS} FROM members m WHERE m.room_id = $1 AND m.user_id = $2`, [roomId, userId]);
    return memberOf(row);
  }

  /** Every membership row of the room (userId: that user's only), as the validator holds them (MemberRepo.memberships). */
  async memberships(roomId: string, userId?: string): Promise<Membership[]> {
    const { rows } = await this.#db.query(`SELECT ${MEMBERSHIP_COLUMNS} FROM members WHERE room_id = $1 AND ($2 = '' OR user_id = $2)`, [roomId, userId ?? '']);
    return rows.map((row) => parseRow(MembershipRowSchema, row, 'members'));
  }

  /** The member with their `user` (null while they have never authenticated). */
  async getWithUser(roomId: string, userId: string): Promise<ChatMember | null> {
    await this.#freshen();
    const [row] = await this.#rows(`${MEMBERS_WITH_USERS} WHERE m.room_id = $1 AND m.user_id = $2`, [roomId, userId]);
    return row === undefined ? null : toChatMember(row);
  }

  /** Members of the room with their users, oldest membership first (ties in insertion order); inactive ones only when asked. */
  async list(roomId: string, options: { includeInactive: boolean } = { includeInactive: false }): Promise<ChatMember[]> {
    await this.#freshen();
    const active = options.includeInactive ? '' : ' AND m.is_active = 1';
    return (await this.#rows(`${MEMBERS_WITH_USERS} WHERE m.room_id = $1${active} ORDER BY m.created_at, m.seq`, [roomId])).map(toChatMember);
  }

  async listActiveUserIds(roomId: string): Promise<string[]> {
    return (await this.#rows('SELECT user_id FROM members WHERE room_id = $1 AND is_active = 1', [roomId])).map((row) => parseRow(UserIdRowSchema, row, 'members').user_id);
  }

  async countActive(roomId: string): Promise<number> {
    return countOf(await this.#rows('SELECT COUNT(*) AS n FROM members WHERE room_id = $1 AND is_active = 1', [roomId]));
  }

  async countActiveOwners(roomId: string): Promise<number> {
    return countOf(await this.#rows(`SELECT COUNT(*) AS n FROM members WHERE room_id = $1 AND is_active = 1 AND role = 'owner'`, [roomId]));
  }

  /** The active member, other than `leavingUserId`, who should own the room next (owners, then admins, then members; oldest first). */
  async successor(roomId: string, leavingUserId: string): Promise<ChatMemberInDB | null> {
    const [row] = await this.#rows(
      `SELECT ${MEMBER_COLUMNS} FROM members m WHERE m.room_id = $1 AND m.user_id <> $2 AND m.is_active = 1
       ORDER BY ${SUCCESSION_RANK}, m.created_at, m.seq LIMIT 1`,
      [roomId, leavingUserId],
    );
    return memberOf(row);
  }

  /**
   * Adds a membership row; the user gets a placeholder row if never seen, in the same statement.
   * Throws on an existing (room, user) row (a unique violation, SQLSTATE 23505): reactivate those with `update`.
   */
  async insert(member: { roomId: string; userId: string; role: ChatMemberRole; isActive?: boolean }, now: number = Date.now()): Promise<ChatMemberInDB> {
    const [row] = await this.#rows(
      `${withPlaceholderUser('$3', '$6')}
       INSERT INTO members AS m (id, room_id, user_id, role, is_active, last_read_at, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, NULL, $6, $6) RETURNING ${MEMBER_COLUMNS}`,
      [uuidv4(), member.roomId, member.userId, member.role, member.isActive === false ? 0 : 1, now],
    );
    const stored = memberOf(row);
    if (!stored) throw new Error(`member ${member.userId} of room ${member.roomId} vanished right after insert`);
    return stored;
  }

  /** Changes role and/or is_active (absent fields unchanged), in one statement. Null when there is no such row. */
  async update(roomId: string, userId: string, patch: { role?: ChatMemberRole; is_active?: boolean }, now: number = Date.now()): Promise<ChatMemberInDB | null> {
    const [row] = await this.#rows(
      `UPDATE members AS m SET role = coalesce($3, m.role), is_active = coalesce($4::smallint, m.is_active), updated_at = $5
       WHERE m.room_id = $1 AND m.user_id = $2 RETURNING ${MEMBER_COLUMNS}`,
      [roomId, userId, patch.role ?? null, patch.is_active === undefined ? null : patch.is_active ? 1 : 0, now],
    );
    return memberOf(row);
  }

  /** Moves the member's read position to `ms` if that is later than the stored one; never backwards. True when it moved. */
  async setLastReadAt(roomId: string, userId: string, ms: number, now: number = Date.now()): Promise<boolean> {
    const { rowCount } = await this.#db.query(
      `UPDATE members SET last_read_at = $3, updated_at = $4
       WHERE room_id = $1 AND user_id = $2 AND (last_read_at IS NULL OR last_read_at < $3)`,
      [roomId, userId, ms, now],
    );
    return (rowCount ?? 0) > 0;
  }

  /** The member's unread count as the summary writer last wrote it (0 for no such member). */
  async unreadCount(roomId: string, userId: string, { fresh = true }: { fresh?: boolean } = {}): Promise<number> {
    if (fresh) await this.#freshen();
    return countOf(await this.#rows('SELECT unread_count AS n FROM members WHERE room_id = $1 AND user_id = $2', [roomId, userId]));
  }

  /** The rooms where the user is an active member. */
  async activeRoomIds(userId: string): Promise<string[]> {
    return (await this.#rows('SELECT room_id FROM members WHERE user_id = $1 AND is_active = 1', [userId])).map((row) => parseRow(RoomIdRowSchema, row, 'members').room_id);
  }

  /** Rooms where the user's membership changed after `ms`. */
  async roomsTouchedSince(userId: string, ms: number): Promise<string[]> {
    await this.#freshen();
    const rows = await this.#rows('SELECT room_id FROM members WHERE user_id = $1 AND is_active = 1 AND updated_at > $2', [userId, ms]);
    return rows.map((row) => parseRow(RoomIdRowSchema, row, 'members').room_id);
  }

  /** Everyone who shares an active room with the user (not the user). */
  async coMembers(userId: string): Promise<string[]> {
    const rows = await this.#rows(
      `SELECT DISTINCT o.user_id FROM members m JOIN members o ON o.room_id = m.room_id
       WHERE m.user_id = $1 AND m.is_active = 1 AND o.is_active = 1 AND o.user_id <> $1`,
      [userId],
    );
    return rows.map((row) => parseRow(UserIdRowSchema, row, 'members').user_id);
  }

  /** The member's own mute of the room (an active member only). True when it changed; updated_at moves with it. */
  async setMuted(roomId: string, userId: string, muted: boolean, now: number = Date.now()): Promise<boolean> {
    const { rowCount } = await this.#db.query(
      'UPDATE members SET muted = $3, updated_at = $4 WHERE room_id = $1 AND user_id = $2 AND is_active = 1 AND muted <> $3',
      [roomId, userId, muted ? 1 : 0, now],
    );
    return (rowCount ?? 0) > 0;
  }

  /** The member's unread count (as last written) and mute, in one read; zero and unmuted for no such member. */
  async personal(roomId: string, userId: string, { fresh = true }: { fresh?: boolean } = {}): Promise<PersonalRoomState> {
    if (fresh) await this.#freshen();
    const [row] = await this.#rows('SELECT unread_count, mention_count, muted FROM members WHERE room_id = $1 AND user_id = $2', [roomId, userId]);
    return row === undefined ? { unread_count: 0, mention_count: 0, muted: false } : parseRow(PersonalRowSchema, row, 'members');
  }

  /** The room's active members with their mute: who a notification may go to. */
  async audience(roomId: string): Promise<{ user_id: string; muted: boolean }[]> {
    return (await this.#rows('SELECT user_id, muted FROM members WHERE room_id = $1 AND is_active = 1', [roomId])).map((row) => parseRow(AudienceRowSchema, row, 'members'));
  }

  async setUnreadCount(roomId: string, userId: string, n: number): Promise<void> {
    await this.#db.query('UPDATE members SET unread_count = $3 WHERE room_id = $1 AND user_id = $2', [roomId, userId, n]);
  }

  /** The member's mention count as the summary writer last wrote it (0 for no such member). */
  async mentionCount(roomId: string, userId: string, { fresh = true }: { fresh?: boolean } = {}): Promise<number> {
    if (fresh) await this.#freshen();
    return countOf(await this.#rows('SELECT mention_count AS n FROM members WHERE room_id = $1 AND user_id = $2', [roomId, userId]));
  }

  async setMentionCount(roomId: string, userId: string, n: number): Promise<void> {
    await this.#db.query('UPDATE members SET mention_count = $3 WHERE room_id = $1 AND user_id = $2', [roomId, userId, n]);
  }
}
