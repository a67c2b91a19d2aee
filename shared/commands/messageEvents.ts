import { z } from 'zod';
import { MessageIdSchema, RoomIdSchema, UserIdSchema } from '../ids.ts';
import { ChatMessageSchema } from '../models/chatMessage.ts';
import { TimestampSchema } from '../models/timestamps.ts';

/** `message_created` and `message_edited`: the message as it is now stored. */
export const MessageEventSchema = z.object({
  room_id: RoomIdSchema,
  message: ChatMessageSchema,
});
export type MessageEvent = z.infer<typeof MessageEventSchema>;

/** `message_deleted`: who deleted it and when; `message` is the tombstone (empty content). */
export const MessageDeletedEventSchema = z.object({
  room_id: RoomIdSchema,
  message_id: MessageIdSchema,
  deleted_by: UserIdSchema,
  deleted_at: TimestampSchema,
  message: ChatMessageSchema,
});
export type MessageDeletedEvent = z.infer<typeof MessageDeletedEventSchema>;
