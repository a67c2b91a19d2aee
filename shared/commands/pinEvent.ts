import { z } from 'zod';
import { MessageIdSchema, RoomIdSchema, UserIdSchema } from '../ids.ts';
import { TimestampSchema } from '../models/timestamps.ts';

/**
 * `message_pinned` and `message_unpinned`: a pin of the room's head changed. `pinned_by` and
 * `pinned_at` are the pin as it is now (null once unpinned). The message itself is not carried: in
 * a segmented room it is in a segment the event's document does not hold; `fetch_pinned` lists them.
 */
export const PinEventSchema = z.object({
  room_id: RoomIdSchema,
  message_id: MessageIdSchema,
  pinned: z.boolean(),
  pinned_by: UserIdSchema.nullable(),
  pinned_at: TimestampSchema.nullable(),
});
export type PinEvent = z.infer<typeof PinEventSchema>;
