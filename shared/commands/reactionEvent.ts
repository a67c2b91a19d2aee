import { z } from 'zod';
import { MessageIdSchema, RoomIdSchema, UserIdSchema } from '../ids.ts';

/** `reaction_added` and `reaction_removed`: the change, and the message's reactions after it. */
export const ReactionEventSchema = z.object({
  room_id: RoomIdSchema,
  message_id: MessageIdSchema,
  user_id: UserIdSchema,
  reaction: z.string(),
  /** Emoji -> user ids, as in ChatMessage.reactions. */
  reactions: z.record(z.string(), z.array(UserIdSchema)),
});
export type ReactionEvent = z.infer<typeof ReactionEventSchema>;
