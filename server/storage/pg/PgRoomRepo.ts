import type { ChatMessage } from '../../../shared/models/chatMessage.ts';
import type { ChatRoom, ChatRoomInDB, ChatRoomUpdate } from '../../../shared/models/chatRoom.ts';
import {
  byActivity,
  directKeyOf,
  lastMessageText,
  type NewRoom,
  ROOM_COLUMNS,
  RoomRowSchema,
  roomPatchParams,
  type RoomRepo,
  SUMMARY_COLUMNS,
  toChatRoom,
  USER_LIST_COLUMNS,
} from '../RoomRepo.ts';
import { parseRow } from '../sqlRows.ts';
import type { AsyncApi } from '../AsyncApi.ts';
import { params, type Queryable } from './pgRepos.ts';

/** What brings projected columns up to date before a read returns them (PgDirectory.freshenProjectionsWith). */
export type Freshen = () => void | Promise<void>;

/** The room of a row of ROOM_COLUMNS, or null for no row. */
const roomOf = (row: unknown): ChatRoomInDB | null => (row === undefined ? null : parseRow(RoomRowSchema, row, 'rooms'));

/**
 * The `rooms` table on PostgreSQL: RoomRepo's contract (see there), with the same columns, row
 * schemas and order. `insert` and `update` return the row they wrote (RETURNING) where SQLite reads
 * it back with a second statement.
 */
export class PgRoomRepo implements AsyncApi<RoomRepo> {
  readonly #db: Queryable;
  readonly #freshen: Freshen;

  constructor(db: Queryable, freshen: Freshen = () => {}) {
    this.#db = db;
    this.#freshen = freshen;
  }

  async get(id: string): Promise<ChatRoomInDB | null> {
    const { rows } = await this.#db.query(`SELECT ${ROOM_COLUMNS} FROM rooms r WHERE r.id = $1`, [id]);
    return roomOf(rows[0]);
  }

  /** The room as the API shows it: with member_count (active members), last_message, company. */
  async getSummary(id: string): Promise<ChatRoom | null> {
    await this.#freshen();
    return this.peekSummary(id);
  }

  /** The room's summary as stored, without writing the due summaries first (see RoomRepo.peekSummary). */
  async peekSummary(id: string): Promise<ChatRoom | null> {
    const { rows } = await this.#db.query(`SELECT ${SUMMARY_COLUMNS} FROM rooms r WHERE r.id = $1`, [id]);
    return rows[0] === undefined ? null : toChatRoom(rows[0]);
  }

  /** Rooms where `userId` is an active member (inactive rooms included), newest activity first; one statement. */
  async listForUser(userId: string): Promise<ChatRoom[]> {
    await this.#freshen();
    const { rows } = await this.#db.query(
      `SELECT ${USER_LIST_COLUMNS} FROM members m JOIN rooms r ON r.id = m.room_id WHERE m.user_id = $1 AND m.is_active = 1`,
      [userId],
    );
    return rows.map(toChatRoom).sort(byActivity);
  }

  /** The direct room of the pair, whichever of them created it. */
  async findDirect(userA: string, userB: string): Promise<ChatRoomInDB | null> {
    const { rows } = await this.#db.query(`SELECT ${ROOM_COLUMNS} FROM rooms r WHERE r.direct_key = $1`, [directKeyOf(userA, userB)]);
    return roomOf(rows[0]);
  }

  /** Inserts a room (no members: see PgDirectory.createRoom). Throws on a duplicate direct_key (a unique violation, SQLSTATE 23505). */
  async insert(room: NewRoom, now: number = Date.now()): Promise<ChatRoomInDB> {
    const { rows } = await this.#db.query(
      `INSERT INTO rooms AS r (id, name, type, company_id, is_active, extra_metadata, direct_key, created_at, updated_at)
       VALUES (${params(8)}, $8) RETURNING ${ROOM_COLUMNS}`,
      [room.id, room.name, room.type, room.company_id, room.is_active ? 1 : 0, JSON.stringify(room.extra_metadata), room.direct_key, now],
    );
    const stored = roomOf(rows[0]);
    if (!stored) throw new Error(`room ${room.id} vanished right after insert`);
    return stored;
  }

  /** Applies a partial update (absent fields unchanged; extra_metadata is replaced whole), in one statement. Null for an unknown room. */
  async update(id: string, patch: ChatRoomUpdate, now: number = Date.now()): Promise<ChatRoomInDB | null> {
    const { set_name, name, is_active, extra_metadata } = roomPatchParams(patch);
    const { rows } = await this.#db.query(
      `UPDATE rooms AS r SET
         name = CASE WHEN $2::boolean THEN $3::text ELSE r.name END,
         is_active = coalesce($4::smallint, r.is_active),
         extra_metadata = coalesce($5::text, r.extra_metadata),
         updated_at = $6
       WHERE r.id = $1 RETURNING ${ROOM_COLUMNS}`,
      [id, set_name, name, is_active, extra_metadata, now],
    );
    return roomOf(rows[0]);
  }

  /** Stores the room's newest message (checked, as JSON text) for room lists; null clears it. */
  async setLastMessage(roomId: string, message: ChatMessage | null): Promise<void> {
    await this.#db.query('UPDATE rooms SET last_message = $2 WHERE id = $1', [roomId, message === null ? null : lastMessageText(roomId, message)]);
  }
}
