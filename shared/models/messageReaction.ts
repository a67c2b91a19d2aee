import { z } from 'zod';
import { MessageIdSchema, UserIdSchema } from '../ids.ts';
import { TimestampSchema } from './timestamps.ts';
import { ReactionSchema } from './chatMessage.ts';

export const MessageReactionSchema = z.object({
  message_id: MessageIdSchema,
  user_id: UserIdSchema,
  reaction: ReactionSchema,
  created_at: TimestampSchema,
});
export type MessageReaction = z.infer<typeof MessageReactionSchema>;
