import { z } from 'zod';
import { RoomIdSchema } from '../ids.ts';
import { UserPresenceSchema } from '../models/userPresence.ts';

/** `presence_changed`: a member went online or offline, or changed their status text. */
export const PresenceEventSchema = z.object({
  room_id: RoomIdSchema,
  presence: UserPresenceSchema,
});
export type PresenceEvent = z.infer<typeof PresenceEventSchema>;
