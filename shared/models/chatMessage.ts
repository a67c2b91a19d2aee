import { z } from 'zod';
import { MessageIdSchema, RoomIdSchema, UserIdSchema } from '../ids.ts';
import { JsonObjectSchema } from '../json.ts';
import { TimestampSchema } from './timestamps.ts';

export const MessageTypeSchema = z.enum(['text', 'image', 'file', 'system']);
export type MessageType = z.infer<typeof MessageTypeSchema>;

/** Longest message content, in UTF-16 code units. */
export const MAX_CONTENT_LENGTH = 16_000;
export const MessageContentSchema = z.string().max(MAX_CONTENT_LENGTH);

/** Reaction: an emoji or a short name like `+1`. */
export const ReactionSchema = z
  .string()
  .min(1)
  .max(32)
  .refine((s) => !/[\u0000-\u001f|]/.test(s), 'reaction must not contain control characters or "|"');

/** The message in API responses and command-protocol events. */
export const ChatMessageSchema = z.object({
  id: MessageIdSchema,
  room_id: RoomIdSchema,
  /** Null for system messages. */
  sender_id: UserIdSchema.nullable(),
  sender_name: z.string().nullable(),
  message_type: MessageTypeSchema,
  content: z.string(),
  extra_metadata: JsonObjectSchema,
  is_deleted: z.boolean(),
  deleted_at: TimestampSchema.nullable(),
  is_edited: z.boolean(),
  /** Emoji -> ids of the users who reacted with it, in the order they reacted. */
  reactions: z.record(z.string(), z.array(UserIdSchema)),
  created_at: TimestampSchema,
  updated_at: TimestampSchema,
});
export type ChatMessage = z.infer<typeof ChatMessageSchema>;

/** ChatMessageCreate / ChatMessageUpdate of the chat API (used by the command gateway). */
export const ChatMessageCreateSchema = z.object({
  message_type: MessageTypeSchema.default('text'),
  content: MessageContentSchema,
  extra_metadata: JsonObjectSchema.default({}),
});
export type ChatMessageCreate = z.infer<typeof ChatMessageCreateSchema>;

export const ChatMessageUpdateSchema = z.object({
  content: MessageContentSchema.optional(),
  extra_metadata: JsonObjectSchema.optional(),
});
export type ChatMessageUpdate = z.infer<typeof ChatMessageUpdateSchema>;
