import { z } from 'zod';
import { MessageIdSchema, RoomIdSchema, UserIdSchema } from '../ids.ts';
import { JsonObjectSchema } from '../json.ts';
import { MessageContentSchema, MessageRelationsInputShape, MessageTypeSchema, ReactionSchema } from '../models/chatMessage.ts';

export const CommandTypeSchema = z.enum([
  'join_room',
  'leave_room',
  'send_message',
  'read_messages',
  'typing_start',
  'typing_stop',
  'fetch_history',
  'add_reaction',
  'remove_reaction',
  'edit_message',
  'delete_message',
  'pin_message',
  'unpin_message',
  'fetch_pinned',
]);
export type CommandType = z.infer<typeof CommandTypeSchema>;

/** Client-chosen id echoed in the response so answers can be matched to requests. */
export const RequestIdSchema = z.union([z.string().max(64), z.number().int()]);

/** The envelope of every frame a command client sends. `data` is parsed by the command's own schema. */
export const WebSocketCommandSchema = z.object({
  command: CommandTypeSchema,
  room_id: RoomIdSchema.nullable().optional(),
  data: z.record(z.string(), z.unknown()).default({}),
  request_id: RequestIdSchema.optional(),
});
export type WebSocketCommand = z.infer<typeof WebSocketCommandSchema>;

/** Largest page `fetch_history` returns. */
export const MAX_HISTORY_LIMIT = 100;

export const JoinRoomCommandSchema = z.object({ room_id: RoomIdSchema });
export const LeaveRoomCommandSchema = z.object({ room_id: RoomIdSchema });
export const SendMessageCommandSchema = z.object({
  room_id: RoomIdSchema,
  content: MessageContentSchema,
  message_type: MessageTypeSchema.default('text'),
  extra_metadata: JsonObjectSchema.default({}),
  /** Optional client-generated UUIDv7: makes a retried send idempotent. */
  message_id: MessageIdSchema.optional(),
  /** Conversations: parent_id (a reply in that thread), show_in_channel, quoted_message_id, mentioned_users. */
  ...MessageRelationsInputShape,
}).refine((p) => p.show_in_channel !== true || p.parent_id !== undefined, { message: 'show_in_channel is for replies: give parent_id', path: ['show_in_channel'] });
export const ReadMessagesCommandSchema = z.object({ room_id: RoomIdSchema, last_read_id: MessageIdSchema });
export const TypingCommandSchema = z.object({ room_id: RoomIdSchema });
export const FetchHistoryCommandSchema = z.object({
  room_id: RoomIdSchema,
  before_id: MessageIdSchema.nullable().optional(),
  /** Pages the thread under this root (its replies, oldest first) instead of the main timeline. */
  parent_id: MessageIdSchema.optional(),
  limit: z.number().int().min(1).max(MAX_HISTORY_LIMIT).default(50),
});
export const ReactionCommandSchema = z.object({
  room_id: RoomIdSchema,
  message_id: MessageIdSchema,
  reaction: ReactionSchema,
});
export const EditMessageCommandSchema = z.object({
  room_id: RoomIdSchema,
  message_id: MessageIdSchema,
  content: MessageContentSchema,
});
export const DeleteMessageCommandSchema = z.object({ room_id: RoomIdSchema, message_id: MessageIdSchema });
export const PinCommandSchema = z.object({ room_id: RoomIdSchema, message_id: MessageIdSchema });
export const FetchPinnedCommandSchema = z.object({ room_id: RoomIdSchema });

/** Each command's payload schema, so a dispatcher needs no switch to parse. */
export const CommandPayloadSchemas = {
  join_room: JoinRoomCommandSchema,
  leave_room: LeaveRoomCommandSchema,
  send_message: SendMessageCommandSchema,
  read_messages: ReadMessagesCommandSchema,
  typing_start: TypingCommandSchema,
  typing_stop: TypingCommandSchema,
  fetch_history: FetchHistoryCommandSchema,
  add_reaction: ReactionCommandSchema,
  remove_reaction: ReactionCommandSchema,
  edit_message: EditMessageCommandSchema,
  delete_message: DeleteMessageCommandSchema,
  pin_message: PinCommandSchema,
  unpin_message: PinCommandSchema,
  fetch_pinned: FetchPinnedCommandSchema,
} as const satisfies Record<CommandType, z.ZodType>;

export type CommandPayload<C extends CommandType> = z.infer<(typeof CommandPayloadSchemas)[C]>;
