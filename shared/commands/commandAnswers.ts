import { z } from 'zod';
import { MessageIdSchema, RoomIdSchema } from '../ids.ts';
import { ChatMessageSchema } from '../models/chatMessage.ts';
import { ChatRoomSchema } from '../models/chatRoom.ts';
import type { CommandType } from './webSocketCommand.ts';

/** How many of the newest messages `join_room` answers with. */
export const JOIN_ROOM_MESSAGES = 50;

const RoomOnly = z.object({ room_id: RoomIdSchema });
const MessageAnswer = z.object({ message: ChatMessageSchema });

export const JoinRoomAnswerSchema = z.object({
  room: ChatRoomSchema,
  /** The newest JOIN_ROOM_MESSAGES messages, oldest first. */
  messages: z.array(ChatMessageSchema),
  has_more: z.boolean(),
});

export const ReadMessagesAnswerSchema = z.object({
  room_id: RoomIdSchema,
  /** The user's read position after the command (unchanged when last_read_id was older). */
  last_read_id: MessageIdSchema,
  moved: z.boolean(),
});

export const FetchHistoryAnswerSchema = z.object({
  room_id: RoomIdSchema,
  /** Oldest first. */
  messages: z.array(ChatMessageSchema),
  has_more: z.boolean(),
});

export const FetchPinnedAnswerSchema = z.object({
  room_id: RoomIdSchema,
  /** Newest pin first; deleted messages are never listed. */
  messages: z.array(ChatMessageSchema),
});

/** The `data` of each command's successful answer. */
export const CommandAnswerSchemas = {
  join_room: JoinRoomAnswerSchema,
  leave_room: RoomOnly,
  send_message: MessageAnswer,
  read_messages: ReadMessagesAnswerSchema,
  typing_start: RoomOnly,
  typing_stop: RoomOnly,
  fetch_history: FetchHistoryAnswerSchema,
  add_reaction: MessageAnswer,
  remove_reaction: MessageAnswer,
  edit_message: MessageAnswer,
  delete_message: MessageAnswer,
  pin_message: MessageAnswer,
  unpin_message: MessageAnswer,
  fetch_pinned: FetchPinnedAnswerSchema,
} as const satisfies Record<CommandType, z.ZodType>;

export type CommandAnswer<C extends CommandType> = z.infer<(typeof CommandAnswerSchemas)[C]>;
