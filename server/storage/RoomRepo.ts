import { z } from 'zod';
import { RoomIdSchema, UuidSchema } from '../../shared/ids.ts';
import { JsonObjectSchema, type JsonObject } from '../../shared/json.ts';
import { ChatMessageSchema, type ChatMessage } from '../../shared/models/chatMessage.ts';
import {
  roomActivityMs,
  ChatRoomTypeSchema,
  type ChatRoom,
  type ChatRoomInDB,
  type ChatRoomType,
  type ChatRoomUpdate,
} from '../../shared/models/chatRoom.ts';
import type { Db } from './openDatabase.ts';
import { SqlBoolean, SqlTimestamp, parseRow, sqlJson } from './sqlRows.ts';

/** The key that makes a direct room unique per pair: both user ids, sorted, joined by '|'. */
export const directKeyOf = (userA: string, userB: string): string => [userA, userB].sort().join('|');

/** A room to insert; timestamps are set by the repo. */
export interface NewRoom {
  id: string;
  name: string | null;
  type: ChatRoomType;
  company_id: string | null;
  is_active: boolean;
  extra_metadata: JsonObject;
  /** directKeyOf(the pair) for direct rooms, null otherwise. */
  direct_key: string | null;
}

/** The columns of a ChatRoomInDB, of `rooms r`; shared with PgRoomRepo, as are the row schemas. */
export const ROOM_COLUMNS = 'r.id, r.name, r.type, r.company_id, r.is_active, r.extra_metadata, r.created_at, r.updated_at';

const RoomRowShape = {
  id: RoomIdSchema,
  name: z.string().nullable(),
  type: ChatRoomTypeSchema,
  company_id: UuidSchema.nullable(),
  is_active: SqlBoolean,
  extra_metadata: sqlJson(JsonObjectSchema),
  created_at: SqlTimestamp,
  updated_at: SqlTimestamp,
};
export const RoomRowSchema = z.object(RoomRowShape);
const RoomSummaryRowSchema = z.object({
  ...RoomRowShape,
  member_count: z.number().int().nonnegative(),
  last_message: z.string().nullable(),
  /** Only in a user's own list. */
  unread_count: z.number().int().nonnegative().optional(),
  mention_count: z.number().int().nonnegative().optional(),
  /** Only in a user's own list. */
  muted: SqlBoolean.optional(),
});

/**
 * `rooms.last_message` is a cache the sync layer rewrites on every new message: a value that
 * no longer parses (say, written before a ChatMessage field was added) reads as "none" rather
 * than failing the whole room list.
 */
function parseLastMessage(text: string | null): ChatMessage | null {
  if (text === null) return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  const parsed = ChatMessageSchema.safeParse(value);
  return parsed.success ? parsed.data : null;
}

/** A row of SUMMARY_COLUMNS or USER_LIST_COLUMNS as the API shows it. */
export function toChatRoom(row: unknown): ChatRoom {
  const { member_count, last_message, unread_count, mention_count, muted, ...room } = parseRow(RoomSummaryRowSchema, row, 'rooms');
  return {
    ...room,
    member_count,
    ...(unread_count === undefined ? {} : { unread_count }),
    ...(mention_count === undefined ? {} : { mention_count }),
    ...(muted === undefined ? {} : { muted }),
    last_message: parseLastMessage(last_message),
    // Parley has no company table: the tenant is known by id only.
    company: room.company_id === null ? null : { id: room.company_id },
  };
}

/** Newest activity first: the last message's time, else the room's creation; ties by id. */
export const activityMs = roomActivityMs;

/** The order of a user's room list: newest activity first, ties by id. */
export const byActivity = (a: ChatRoom, b: ChatRoom): number => activityMs(b) - activityMs(a) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * The columns of a room summary of `rooms r`: the room, its last message and its number of active
 * members (a correlated subquery on the (room_id, user_id) unique index).
 */
export const SUMMARY_COLUMNS = `${ROOM_COLUMNS}, r.last_message, (SELECT COUNT(*) FROM members c WHERE c.room_id = r.id AND c.is_active = 1) AS member_count`;

/** The columns of a user's own room list, of `members m JOIN rooms r`: the summary, then the member's own counts and mute. */
export const USER_LIST_COLUMNS = `${SUMMARY_COLUMNS}, m.unread_count, m.mention_count, m.muted`;

/** A room's newest message as `rooms.last_message` stores it (JSON text), checked: every room list will parse it back. */
export function lastMessageText(roomId: string, message: ChatMessage): string {
  const checked = ChatMessageSchema.parse(message);
  if (checked.room_id !== roomId) throw new Error(`last message of room ${roomId} belongs to room ${checked.room_id}`);
  return JSON.stringify(checked);
}

/** A partial room update as the UPDATE statement binds it: `set_name` tells "leave the name" apart from "set it to NULL"; null leaves a column. */
export function roomPatchParams(patch: ChatRoomUpdate): { set_name: boolean; name: string | null; is_active: number | null; extra_metadata: string | null } {
  return {
    set_name: patch.name !== undefined,
    name: patch.name ?? null,
    is_active: patch.is_active === undefined ? null : patch.is_active ? 1 : 0,
    extra_metadata: patch.extra_metadata === undefined ? null : JSON.stringify(patch.extra_metadata),
  };
}

/** The `rooms` table. */
export class RoomRepo {
  readonly #get;
  readonly #getSummary;
  readonly #listForUser;
  readonly #findByDirectKey;
  readonly #insert;
  readonly #update;
  readonly #setLastMessage;
  readonly #freshen: () => void;

  constructor(db: Db, freshen: () => void = () => {}) {
    this.#freshen = freshen;
    this.#get = db.prepare<[string]>(`SELECT ${ROOM_COLUMNS} FROM rooms r WHERE r.id = ?`);
    this.#getSummary = db.prepare<[string]>(`SELECT ${SUMMARY_COLUMNS} FROM rooms r WHERE r.id = ?`);
    // One statement for the whole list (member count as a correlated subquery): no query per room.
    this.#listForUser = db.prepare<[string]>(
      `SELECT ${USER_LIST_COLUMNS}
       FROM members m JOIN rooms r ON r.id = m.room_id
       WHERE m.user_id = ? AND m.is_active = 1`,
    );
    this.#findByDirectKey = db.prepare<[string]>(`SELECT ${ROOM_COLUMNS} FROM rooms r WHERE r.direct_key = ?`);
    this.#insert = db.prepare<{
      id: string;
      name: string | null;
      type: ChatRoomType;
      company_id: string | null;
      is_active: number;
      extra_metadata: string;
      direct_key: string | null;
      now: number;
    }>(
      `INSERT INTO rooms (id, name, type, company_id, is_active, extra_metadata, direct_key, created_at, updated_at)
       VALUES (@id, @name, @type, @company_id, @is_active, @extra_metadata, @direct_key, @now, @now)`,
    );
    // One statement, so a partial update cannot interleave with another writer's.
    // `set_name` tells "leave the name" apart from "set it to NULL".
    this.#update = db.prepare<{
      id: string;
      set_name: number;
      name: string | null;
      is_active: number | null;
      extra_metadata: string | null;
      now: number;
    }>(
      `UPDATE rooms SET
         name = CASE WHEN @set_name THEN @name ELSE name END,
         is_active = coalesce(@is_active, is_active),
         extra_metadata = coalesce(@extra_metadata, extra_metadata),
         updated_at = @now
       WHERE id = @id`,
    );
    this.#setLastMessage = db.prepare<{ id: string; message: string | null }>(
      `UPDATE rooms SET last_message = @message WHERE id = @id`,
    );
  }

  get(id: string): ChatRoomInDB | null {
    const row = this.#get.get(id);
    return row === undefined ? null : parseRow(RoomRowSchema, row, 'rooms');
  }

  /** The room as the API shows it: with member_count (active members), last_message, company. */
  getSummary(id: string): ChatRoom | null {
    this.#freshen();
    return this.peekSummary(id);
  }

  /**
   * The room's summary as stored, without writing the due summaries first: for the summary
   * writer's own listeners, which read a room it has just written (freshening there would write
   * every other due room at once, on the event loop).
   */
  peekSummary(id: string): ChatRoom | null {
    const row = this.#getSummary.get(id);
    return row === undefined ? null : toChatRoom(row);
  }

  /** Rooms where `userId` is an active member (inactive rooms included), newest activity first. */
  listForUser(userId: string): ChatRoom[] {
    this.#freshen();
    return this.#listForUser.all(userId).map(toChatRoom).sort(byActivity);
  }

  /** The direct room of the pair, whichever of them created it. */
  findDirect(userA: string, userB: string): ChatRoomInDB | null {
    const row = this.#findByDirectKey.get(directKeyOf(userA, userB));
    return row === undefined ? null : parseRow(RoomRowSchema, row, 'rooms');
  }

  /** Inserts a room (no members: see Directory.createRoom). Throws on a duplicate direct_key. */
  insert(room: NewRoom, now: number = Date.now()): ChatRoomInDB {
    this.#insert.run({
      ...room,
      is_active: room.is_active ? 1 : 0,
      extra_metadata: JSON.stringify(room.extra_metadata),
      now,
    });
    const stored = this.get(room.id);
    if (!stored) throw new Error(`room ${room.id} vanished right after insert`);
    return stored;
  }

  /** Applies a partial update (absent fields unchanged; extra_metadata is replaced whole). Null for an unknown room. */
  update(id: string, patch: ChatRoomUpdate, now: number = Date.now()): ChatRoomInDB | null {
    const { set_name, ...columns } = roomPatchParams(patch);
    this.#update.run({ id, set_name: set_name ? 1 : 0, ...columns, now });
    return this.get(id);
  }

  /**
   * Stores the room's newest message (a ChatMessage, as JSON text) for room lists; null clears it.
   * The message is checked here because every room list will parse it back.
   */
  setLastMessage(roomId: string, message: ChatMessage | null): void {
    this.#setLastMessage.run({ id: roomId, message: message === null ? null : lastMessageText(roomId, message) });
  }
}
