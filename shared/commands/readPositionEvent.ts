import { z } from 'zod';
import { MessageIdSchema, RoomIdSchema, UserIdSchema } from '../ids.ts';
import { TimestampSchema } from '../models/timestamps.ts';

/** `read_position_moved`: a member's read position (over all their devices) moved forward. */
export const ReadPositionEventSchema = z.object({
  room_id: RoomIdSchema,
  user_id: UserIdSchema,
  last_read_id: MessageIdSchema,
  /** The creation time of that message (the member's `last_read_at` in the REST API). */
  last_read_at: TimestampSchema,
});
export type ReadPositionEvent = z.infer<typeof ReadPositionEventSchema>;
