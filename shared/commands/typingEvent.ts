import { z } from 'zod';
import { RoomIdSchema, UserIdSchema } from '../ids.ts';

/** `typing_started` and `typing_stopped`: per user, over all their devices and endpoints. */
export const TypingEventSchema = z.object({
  room_id: RoomIdSchema,
  user_id: UserIdSchema,
  user_name: z.string(),
});
export type TypingEvent = z.infer<typeof TypingEventSchema>;
