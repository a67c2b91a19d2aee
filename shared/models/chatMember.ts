import { z } from 'zod';
import { RoomIdSchema, UuidSchema, UserIdSchema } from '../ids.ts';
import { TimestampSchema } from './timestamps.ts';
import { UserSchema } from './user.ts';

export const ChatMemberRoleSchema = z.enum(['owner', 'admin', 'member']);
export type ChatMemberRole = z.infer<typeof ChatMemberRoleSchema>;

/** Owners and admins manage members and room settings, and may delete any message. */
export const isManagerRole = (role: ChatMemberRole): boolean => role === 'owner' || role === 'admin';

/** POST /api/rooms/:roomId/members */
export const ChatMemberCreateSchema = z
  .object({
    user_id: UserIdSchema,
    role: ChatMemberRoleSchema.default('member'),
    is_active: z.boolean().default(true),
  })
  .strict();
export type ChatMemberCreate = z.infer<typeof ChatMemberCreateSchema>;

/** PATCH /api/rooms/:roomId/members/:userId — every field optional. */
export const ChatMemberUpdateSchema = z
  .object({
    role: ChatMemberRoleSchema.optional(),
    is_active: z.boolean().optional(),
    last_read_at: TimestampSchema.nullable().optional(),
  })
  .strict();
export type ChatMemberUpdate = z.infer<typeof ChatMemberUpdateSchema>;

export const ChatMemberInDBSchema = z.object({
  id: UuidSchema,
  room_id: RoomIdSchema,
  user_id: UserIdSchema,
  role: ChatMemberRoleSchema,
  is_active: z.boolean(),
  last_read_at: TimestampSchema.nullable(),
  created_at: TimestampSchema,
  updated_at: TimestampSchema,
});
export type ChatMemberInDB = z.infer<typeof ChatMemberInDBSchema>;

/** The member in API responses, with the user's id and name. */
export const ChatMemberSchema = ChatMemberInDBSchema.extend({
  user: UserSchema.nullable(),
});
export type ChatMember = z.infer<typeof ChatMemberSchema>;

/** GET /api/rooms/:roomId/members — former (inactive) members only when asked for. */
export const ChatMemberListQuerySchema = z.object({
  include_inactive: z.stringbool().default(false),
});
export type ChatMemberListQuery = z.infer<typeof ChatMemberListQuerySchema>;

export const ChatMemberListSchema = z.object({ members: z.array(ChatMemberSchema) });
export type ChatMemberList = z.infer<typeof ChatMemberListSchema>;
