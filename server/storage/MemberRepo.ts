import { z } from 'zod';
import { RoomIdSchema, UserIdSchema, UuidSchema, uuidv4 } from '../../shared/ids.ts';
import { ChatMemberRoleSchema, type ChatMember, type ChatMemberInDB, type ChatMemberRole } from '../../shared/models/chatMember.ts';
import type { Db } from './openDatabase.ts';
import { SqlBoolean, SqlTimestamp, parseRow } from './sqlRows.ts';
import type { UserRepo } from './UserRepo.ts';

/** A time column as stored: ms since the epoch. */
export const MillisColumn = z.number().int().nonnegative();

/** The columns of a ChatMemberInDB, of `members m`; shared with PgMemberRepo, as are the row schemas. */
export const MEMBER_COLUMNS = 'm.id, m.room_id, m.user_id, m.role, m.is_active, m.last_read_at, m.created_at, m.updated_at';

const MemberRowShape = {
  id: UuidSchema,
  room_id: RoomIdSchema,
  user_id: UserIdSchema,
  role: ChatMemberRoleSchema,
  is_active: SqlBoolean,
  last_read_at: SqlTimestamp.nullable(),
  created_at: SqlTimestamp,
  updated_at: SqlTimestamp,
};
export const MemberRowSchema = z.object(MemberRowShape);

/** Members with their users' names, of `members m` (see toChatMember). */
export const MEMBERS_WITH_USERS = `SELECT ${MEMBER_COLUMNS}, u.name AS user_name FROM members m JOIN users u ON u.id = m.user_id`;

/**
 * Who inherits a room from its last owner: another owner, else the longest-standing admin, else the
 * longest-standing member ("standing" = when the membership row was first created).
 */
export const SUCCESSION_RANK = `CASE m.role WHEN 'owner' THEN 0 WHEN 'admin' THEN 1 ELSE 2 END`;

const MemberWithUserRowSchema = z.object({ ...MemberRowShape, user_name: z.string().nullable() });
export const UserIdRowSchema = z.object({ user_id: UserIdSchema });
export const RoomIdRowSchema = z.object({ room_id: RoomIdSchema });
export const CountRowSchema = z.object({ n: z.number().int().nonnegative() });
export const PersonalRowSchema = z.object({ unread_count: z.number().int().nonnegative(), mention_count: z.number().int().nonnegative(), muted: SqlBoolean });
/** One membership as the sync path's validator holds it in memory (RoomMemberships). */
export const MembershipRowSchema = z.object({ user_id: UserIdSchema, role: ChatMemberRoleSchema, is_active: SqlBoolean, since: MillisColumn });
export type Membership = z.infer<typeof MembershipRowSchema>;
/** The columns of a Membership, of `members` (shared with PgMemberRepo). */
export const MEMBERSHIP_COLUMNS = 'user_id, role, is_active, created_at AS since';

export const AudienceRowSchema = z.object({ user_id: UserIdSchema, muted: SqlBoolean });

/** What the caller's own room list shows of their membership: their unread and mention counts and their mute. */
export interface PersonalRoomState {
  readonly unread_count: number;
  readonly mention_count: number;
  readonly muted: boolean;
}

/** A row of MEMBER_COLUMNS and `user_name` (the user's, null for a placeholder) as the API shows it. */
export function toChatMember(row: unknown): ChatMember {
  const { user_name, ...member } = parseRow(MemberWithUserRowSchema, row, 'members');
  // A member added before they ever authenticated has no name yet: `user` is null until then.
  return { ...member, user: user_name === null ? null : { id: member.user_id, name: user_name } };
}

/** The `members` table: one row per (room, user), deactivated rather than deleted. */
export class MemberRepo {
  readonly #users: UserRepo;
  readonly #get;
  readonly #memberships;
  readonly #getWithUser;
  readonly #list;
  readonly #listActive;
  readonly #activeUserIds;
  readonly #countActive;
  readonly #countActiveOwners;
  readonly #successor;
  readonly #insert;
  readonly #update;
  readonly #setLastReadAt;
  readonly #setUnread;
  readonly #unread;
  readonly #setMentions;
  readonly #mentions;
  readonly #touchedSince;
  readonly #activeRooms;
  readonly #coMembers;
  readonly #setMuted;
  readonly #personal;
  readonly #audience;

  /** Brings last_read_at up to date before a read that returns it (Directory.freshenProjectionsWith). */
  readonly #freshen: () => void;

  constructor(db: Db, users: UserRepo, freshen: () => void = () => {}) {
    this.#users = users;
    this.#freshen = freshen;
    // Ties in created_at (one transaction adds a room's initial members) fall back to rowid,
    // which is insertion order.
    const withUser = MEMBERS_WITH_USERS;
    this.#get = db.prepare<[string, string]>(`SELECT ${MEMBER_COLUMNS} FROM members m WHERE m.room_id = ? AND m.user_id = ?`);
    this.#getWithUser = db.prepare<[string, string]>(`${withUser} WHERE m.room_id = ? AND m.user_id = ?`);
    this.#memberships = db.prepare<[string, string, string]>(`SELECT ${MEMBERSHIP_COLUMNS} FROM members WHERE room_id = ? AND (? = '' OR user_id = ?)`);
    this.#list = db.prepare<[string]>(`${withUser} WHERE m.room_id = ? ORDER BY m.created_at, m.rowid`);
    this.#listActive = db.prepare<[string]>(`${withUser} WHERE m.room_id = ? AND m.is_active = 1 ORDER BY m.created_at, m.rowid`);
    this.#activeUserIds = db.prepare<[string]>(`SELECT user_id FROM members WHERE room_id = ? AND is_active = 1`);
    this.#countActive = db.prepare<[string]>(`SELECT COUNT(*) AS n FROM members WHERE room_id = ? AND is_active = 1`);
    this.#countActiveOwners = db.prepare<[string]>(
      `SELECT COUNT(*) AS n FROM members WHERE room_id = ? AND is_active = 1 AND role = 'owner'`,
    );
    this.#successor = db.prepare<[string, string]>(
      `SELECT ${MEMBER_COLUMNS} FROM members m
       WHERE m.room_id = ? AND m.user_id <> ? AND m.is_active = 1
       ORDER BY ${SUCCESSION_RANK}, m.created_at, m.rowid
       LIMIT 1`,
    );
    this.#insert = db.prepare<{ id: string; room_id: string; user_id: string; role: ChatMemberRole; is_active: number; now: number }>(
      `INSERT INTO members (id, room_id, user_id, role, is_active, last_read_at, created_at, updated_at)
       VALUES (@id, @room_id, @user_id, @role, @is_active, NULL, @now, @now)`,
    );
    this.#update = db.prepare<{ room_id: string; user_id: string; role: ChatMemberRole | null; is_active: number | null; now: number }>(
      `UPDATE members SET role = coalesce(@role, role), is_active = coalesce(@is_active, is_active), updated_at = @now
       WHERE room_id = @room_id AND user_id = @user_id`,
    );
    // The read position only moves forward: devices report it out of order, and an old
    // device coming back online must not mark read messages unread again.
    this.#setLastReadAt = db.prepare<{ room_id: string; user_id: string; ms: number; now: number }>(
      `UPDATE members SET last_read_at = @ms, updated_at = @now
       WHERE room_id = @room_id AND user_id = @user_id AND (last_read_at IS NULL OR last_read_at < @ms)`,
    );
    this.#setUnread = db.prepare<{ room_id: string; user_id: string; n: number }>(`UPDATE members SET unread_count = @n WHERE room_id = @room_id AND user_id = @user_id`);
    this.#unread = db.prepare<[string, string]>(`SELECT unread_count AS n FROM members WHERE room_id = ? AND user_id = ?`);
    this.#setMentions = db.prepare<{ room_id: string; user_id: string; n: number }>(`UPDATE members SET mention_count = @n WHERE room_id = @room_id AND user_id = @user_id`);
    this.#mentions = db.prepare<[string, string]>(`SELECT mention_count AS n FROM members WHERE room_id = ? AND user_id = ?`);
    this.#activeRooms = db.prepare<[string]>('SELECT room_id FROM members WHERE user_id = ? AND is_active = 1');
    this.#touchedSince = db.prepare<[string, number]>(`SELECT room_id FROM members WHERE user_id = ? AND is_active = 1 AND updated_at > ?`);
    this.#coMembers = db.prepare<[string, string]>(
      `SELECT DISTINCT o.user_id FROM members m JOIN members o ON o.room_id = m.room_id
       WHERE m.user_id = ? AND m.is_active = 1 AND o.is_active = 1 AND o.user_id != ?`,
    );
    this.#setMuted = db.prepare<{ room_id: string; user_id: string; muted: number; now: number }>(
      `UPDATE members SET muted = @muted, updated_at = @now WHERE room_id = @room_id AND user_id = @user_id AND is_active = 1 AND muted <> @muted`,
    );
    this.#personal = db.prepare<[string, string]>(`SELECT unread_count, mention_count, muted FROM members WHERE room_id = ? AND user_id = ?`);
    this.#audience = db.prepare<[string]>(`SELECT user_id, muted FROM members WHERE room_id = ? AND is_active = 1`);
  }

  /**
   * The membership row, for access checks and the like (its last_read_at may lag the document by
   * up to a second; the reads that answer clients, getWithUser and list, bring it up to date).
   */
  get(roomId: string, userId: string): ChatMemberInDB | null {
    const row = this.#get.get(roomId, userId);
    return row === undefined ? null : parseRow(MemberRowSchema, row, 'members');
  }

  /**
   * Every membership row of the room, active or not (userId: that user's only), in the few columns
   * the sync path's validator checks: what RoomMemberships holds in memory for a loaded room.
   */
  memberships(roomId: string, userId?: string): Membership[] {
    return this.#memberships.all(roomId, userId ?? '', userId ?? '').map((row) => parseRow(MembershipRowSchema, row, 'members'));
  }

  /** The member with their `user` (null while they have never authenticated). */
  getWithUser(roomId: string, userId: string): ChatMember | null {
    this.#freshen();
    const row = this.#getWithUser.get(roomId, userId);
    return row === undefined ? null : toChatMember(row);
  }

  /** Members of the room with their users, oldest membership first; inactive ones only when asked. */
  list(roomId: string, options: { includeInactive: boolean } = { includeInactive: false }): ChatMember[] {
    this.#freshen();
    const statement = options.includeInactive ? this.#list : this.#listActive;
    return statement.all(roomId).map(toChatMember);
  }

  listActiveUserIds(roomId: string): string[] {
    return this.#activeUserIds.all(roomId).map((row) => parseRow(UserIdRowSchema, row, 'members').user_id);
  }

  countActive(roomId: string): number {
    return parseRow(CountRowSchema, this.#countActive.get(roomId), 'members').n;
  }

  countActiveOwners(roomId: string): number {
    return parseRow(CountRowSchema, this.#countActiveOwners.get(roomId), 'members').n;
  }

  /** The active member, other than `leavingUserId`, who should own the room next (owners first, then admins, then members; oldest first). */
  successor(roomId: string, leavingUserId: string): ChatMemberInDB | null {
    const row = this.#successor.get(roomId, leavingUserId);
    return row === undefined ? null : parseRow(MemberRowSchema, row, 'members');
  }

  /**
   * Adds a membership row (the user gets a placeholder row if never seen). Throws on an
   * existing (room, user) row: reactivate those with `update`.
   */
  insert(member: { roomId: string; userId: string; role: ChatMemberRole; isActive?: boolean }, now: number = Date.now()): ChatMemberInDB {
    this.#users.ensure([member.userId], now);
    this.#insert.run({
      id: uuidv4(),
      room_id: member.roomId,
      user_id: member.userId,
      role: member.role,
      is_active: member.isActive === false ? 0 : 1,
      now,
    });
    const stored = this.get(member.roomId, member.userId);
    if (!stored) throw new Error(`member ${member.userId} of room ${member.roomId} vanished right after insert`);
    return stored;
  }

  /** Changes role and/or is_active (absent fields unchanged). Null when there is no such row. */
  update(roomId: string, userId: string, patch: { role?: ChatMemberRole; is_active?: boolean }, now: number = Date.now()): ChatMemberInDB | null {
    this.#update.run({
      room_id: roomId,
      user_id: userId,
      role: patch.role ?? null,
      is_active: patch.is_active === undefined ? null : patch.is_active ? 1 : 0,
      now,
    });
    return this.get(roomId, userId);
  }

  /**
   * Moves the member's read position to `ms` if that is later than the stored one; never
   * backwards. True when it moved. Inactive members keep theirs too (they may come back).
   */
  setLastReadAt(roomId: string, userId: string, ms: number, now: number = Date.now()): boolean {
    return this.#setLastReadAt.run({ room_id: roomId, user_id: userId, ms, now }).changes > 0;
  }

  /** The member's unread count as the summary writer last wrote it (0 for no such member). */
  unreadCount(roomId: string, userId: string, { fresh = true }: { fresh?: boolean } = {}): number {
    if (fresh) this.#freshen();
    const row = this.#unread.get(roomId, userId);
    return row === undefined ? 0 : parseRow(CountRowSchema, row, 'members').n;
  }

  /** The rooms where the user is an active member. */
  activeRoomIds(userId: string): string[] {
    return this.#activeRooms.all(userId).map((row) => parseRow(RoomIdRowSchema, row, 'members').room_id);
  }

  /** Rooms where the user's membership changed after `ms` (a read position moved on one of their devices, a role). */
  roomsTouchedSince(userId: string, ms: number): string[] {
    this.#freshen();
    return this.#touchedSince.all(userId, ms).map((row) => parseRow(RoomIdRowSchema, row, 'members').room_id);
  }

  /** Everyone who shares an active room with the user (not the user). */
  coMembers(userId: string): string[] {
    return this.#coMembers.all(userId, userId).map((row) => parseRow(UserIdRowSchema, row, 'members').user_id);
  }

  /**
   * The member's own mute of the room (an active member only). True when it changed; the row's
   * updated_at moves with it, so a device resuming its feed hears of it.
   */
  setMuted(roomId: string, userId: string, muted: boolean, now: number = Date.now()): boolean {
    return this.#setMuted.run({ room_id: roomId, user_id: userId, muted: muted ? 1 : 0, now }).changes > 0;
  }

  /** The member's unread count (as last written) and mute, in one read; zero and unmuted for no such member. */
  personal(roomId: string, userId: string, { fresh = true }: { fresh?: boolean } = {}): PersonalRoomState {
    if (fresh) this.#freshen();
    const row = this.#personal.get(roomId, userId);
    return row === undefined ? { unread_count: 0, mention_count: 0, muted: false } : parseRow(PersonalRowSchema, row, 'members');
  }

  /** The room's active members with their mute: who a notification may go to. */
  audience(roomId: string): { user_id: string; muted: boolean }[] {
    return this.#audience.all(roomId).map((row) => parseRow(AudienceRowSchema, row, 'members'));
  }

  setUnreadCount(roomId: string, userId: string, n: number): void {
    this.#setUnread.run({ room_id: roomId, user_id: userId, n });
  }

  /** The member's mention count as the summary writer last wrote it (0 for no such member). */
  mentionCount(roomId: string, userId: string, { fresh = true }: { fresh?: boolean } = {}): number {
    if (fresh) this.#freshen();
    const row = this.#mentions.get(roomId, userId);
    return row === undefined ? 0 : parseRow(CountRowSchema, row, 'members').n;
  }

  setMentionCount(roomId: string, userId: string, n: number): void {
    this.#setMentions.run({ room_id: roomId, user_id: userId, n });
  }
}
