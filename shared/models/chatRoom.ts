import { z } from 'zod';
import { RoomIdSchema, UuidSchema, UserIdSchema } from '../ids.ts';
import { JsonObjectSchema } from '../json.ts';
import { TimestampSchema } from './timestamps.ts';
import { ChatMemberRoleSchema } from './chatMember.ts';

export const ChatRoomTypeSchema = z.enum(['direct', 'group', 'channel']);
export type ChatRoomType = z.infer<typeof ChatRoomTypeSchema>;

export const RoomNameSchema = z.string().trim().min(1).max(120);

const ChatRoomBaseShape = {
  /** Null for direct chats. */
  name: RoomNameSchema.nullable(),
  type: ChatRoomTypeSchema,
  /** The tenant/workspace the room belongs to. */
  company_id: UuidSchema.nullable(),
  is_active: z.boolean(),
  extra_metadata: JsonObjectSchema,
};

/** An initial member of a new room (the creator is always added as `owner`). */
export const InitialMemberSchema = z.object({
  user_id: UserIdSchema,
  role: ChatMemberRoleSchema.exclude(['owner']).default('member'),
});

/** POST /api/rooms */
export const ChatRoomCreateSchema = z
  .object({
    name: ChatRoomBaseShape.name.default(null),
    type: ChatRoomTypeSchema,
    company_id: ChatRoomBaseShape.company_id.default(null),
    is_active: z.boolean().default(true),
    extra_metadata: JsonObjectSchema.default({}),
    members: z.array(InitialMemberSchema).max(1000).default([]),
  })
  .strict();
export type ChatRoomCreate = z.infer<typeof ChatRoomCreateSchema>;

/** PATCH /api/rooms/:roomId — every field optional (partial update). */
export const ChatRoomUpdateSchema = z
  .object({
    name: RoomNameSchema.nullable().optional(),
    is_active: z.boolean().optional(),
    extra_metadata: JsonObjectSchema.optional(),
  })
  .strict();
export type ChatRoomUpdate = z.infer<typeof ChatRoomUpdateSchema>;

/** PUT /api/rooms/:roomId/mute: the caller's own setting for the room, on all their devices. */
export const RoomMuteSchema = z.object({ muted: z.boolean() }).strict();
export type RoomMute = z.infer<typeof RoomMuteSchema>;

/** The room as stored. */
export const ChatRoomInDBSchema = z.object({
  id: RoomIdSchema,
  ...ChatRoomBaseShape,
  created_at: TimestampSchema,
  updated_at: TimestampSchema,
});
export type ChatRoomInDB = z.infer<typeof ChatRoomInDBSchema>;

/** The room in API responses. `last_message` is a ChatMessage JSON object. */
export const ChatRoomSchema = ChatRoomInDBSchema.extend({
  member_count: z.number().int().nonnegative(),
  last_message: z.record(z.string(), z.unknown()).nullable(),
  company: z.record(z.string(), z.unknown()).nullable(),
  /**
   * In the caller's own list (GET /api/rooms, the user feed): messages by others after the
   * caller's read position, counted up to MAX_UNREAD_COUNT (shown as "999+" past it).
   */
  unread_count: z.number().int().nonnegative().optional(),
  /**
   * In the caller's own list too: of those unread messages, the ones that mention the caller
   * (`mentioned_users`), counted up to MAX_UNREAD_COUNT. A segmented room counts the segment its
   * summary reads (docs/protocol.md, "Large rooms").
   */
  mention_count: z.number().int().nonnegative().optional(),
  /**
   * In the caller's own list: whether the caller muted the room (PUT /api/rooms/:roomId/mute): no
   * notification, no webhook call, and the web app leaves it out of the tab title's count.
   */
  muted: z.boolean().optional(),
});
export type ChatRoom = z.infer<typeof ChatRoomSchema>;

/** Newest activity first: the last message's time, else the room's creation (ms since the epoch). */
export function roomActivityMs(room: Pick<ChatRoom, 'last_message' | 'created_at'>): number {
  const lastAt = room.last_message?.['created_at'];
  return Date.parse(typeof lastAt === 'string' ? lastAt : room.created_at);
}

/** The most unread messages a room counts for a member; past it, the count stays here. */
export const MAX_UNREAD_COUNT = 1000;

/** Most rooms one page of GET /api/rooms holds, and how many when `limit` is absent. */
export const MAX_ROOMS_PER_PAGE = 500;
export const DEFAULT_ROOMS_PER_PAGE = 100;

/** GET /api/rooms?limit=&cursor=: a page size, and where the previous page ended (its next_cursor). */
export const ChatRoomListQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(MAX_ROOMS_PER_PAGE).default(DEFAULT_ROOMS_PER_PAGE),
  cursor: z.string().min(1).max(200).optional(),
});

/** GET /api/rooms: one page of the caller's rooms, newest activity first; `next_cursor` null on the last. */
export const ChatRoomListSchema = z.object({ rooms: z.array(ChatRoomSchema), next_cursor: z.string().nullable() });
export type ChatRoomList = z.infer<typeof ChatRoomListSchema>;
