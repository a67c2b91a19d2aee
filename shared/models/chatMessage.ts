import { z } from 'zod';
import { MessageIdSchema, RoomIdSchema, UserIdSchema } from '../ids.ts';
import { JsonObjectSchema } from '../json.ts';
import { AttachmentInputSchema, AttachmentSchema, MAX_ATTACHMENTS_PER_MESSAGE } from './attachment.ts';
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

/** A quoted message as the quoting one carries it. */
export const QuotedMessageSchema = z.object({
  id: MessageIdSchema,
  sender_id: UserIdSchema.nullable(),
  sender_name: z.string().nullable(),
  /** The first line of its text (empty when deleted). */
  content: z.string(),
  is_deleted: z.boolean(),
});
export type QuotedMessage = z.infer<typeof QuotedMessageSchema>;

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
  // Conversations (docs/protocol.md, "Conversations"); Stream Chat's field names. Defaults let a
  // message from an older server parse.
  /** The thread root this message replies to. */
  parent_id: MessageIdSchema.nullable().default(null),
  /** A reply also shown in the main timeline. */
  show_in_channel: z.boolean().default(false),
  quoted_message_id: MessageIdSchema.nullable().default(null),
  /** The quoted message as it is now (first line of its text), or null when not quoting or not at hand. */
  quoted_message: QuotedMessageSchema.nullable().default(null),
  mentioned_users: z.array(UserIdSchema).default([]),
  /** Files on an `image` or `file` message (models/attachment.ts). */
  attachments: z.array(AttachmentSchema).default([]),
  /** On a thread root: replies not deleted, when the latest came, who took part (derived by the server). */
  reply_count: z.number().int().nonnegative().default(0),
  last_reply_at: TimestampSchema.nullable().default(null),
  thread_participants: z.array(UserIdSchema).default([]),
  pinned: z.boolean().default(false),
  pinned_at: TimestampSchema.nullable().default(null),
  pinned_by: UserIdSchema.nullable().default(null),
});
export type ChatMessage = z.infer<typeof ChatMessageSchema>;

/** The conversation fields of a message with no thread, quote, mentions or pin. */
export const PLAIN_CONVERSATION_FIELDS = {
  parent_id: null,
  show_in_channel: false,
  quoted_message_id: null,
  quoted_message: null,
  mentioned_users: [],
  attachments: [],
  reply_count: 0,
  last_reply_at: null,
  thread_participants: [],
  pinned: false,
  pinned_at: null,
  pinned_by: null,
} as const satisfies Partial<ChatMessage>;

/** A new message's relations as the API takes them (ChatMessageCreate, send_message). */
export const MessageRelationsInputShape = {
  parent_id: MessageIdSchema.optional(),
  show_in_channel: z.boolean().optional(),
  quoted_message_id: MessageIdSchema.optional(),
  /** Active members of the room (else invalid_payload), 1 to 50 distinct. */
  mentioned_users: z
    .array(UserIdSchema)
    .min(1)
    .max(50)
    .refine((ids) => new Set(ids).size === ids.length, { message: 'mentioned_users must be distinct' })
    .optional(),
  /** Attachments uploaded to the room by the sender (POST /api/rooms/:roomId/attachments), by id; image and file messages only. */
  attachments: z
    .array(AttachmentInputSchema)
    .min(1)
    .max(MAX_ATTACHMENTS_PER_MESSAGE)
    .refine((list) => new Set(list.map((a) => a.id)).size === list.length, { message: 'attachments must be distinct' })
    .optional(),
};

/** ChatMessageCreate / ChatMessageUpdate of the chat API (used by the command gateway). */
export const ChatMessageCreateSchema = z.object({
  message_type: MessageTypeSchema.default('text'),
  content: MessageContentSchema,
  extra_metadata: JsonObjectSchema.default({}),
  ...MessageRelationsInputShape,
});
export type ChatMessageCreate = z.infer<typeof ChatMessageCreateSchema>;

export const ChatMessageUpdateSchema = z.object({
  content: MessageContentSchema.optional(),
  extra_metadata: JsonObjectSchema.optional(),
  /** Replaces the mentions along with the text. */
  mentioned_users: z.array(UserIdSchema).max(50).optional(),
});
export type ChatMessageUpdate = z.infer<typeof ChatMessageUpdateSchema>;
