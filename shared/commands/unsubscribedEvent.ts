import { z } from 'zod';
import { RoomIdSchema } from '../ids.ts';

/**
 * `unsubscribed`: the server ended this connection's subscription to a room (the connection stays
 * open). `code` says why: `not_a_member` (removed or deactivated), `room_inactive`, `not_found`,
 * `internal` (the room failed to store a change and was dropped; join again), or
 * `owner_unavailable` (several nodes: the node serving the room went away; join again, retried
 * with backoff until another node takes the room).
 */
export const UnsubscribedEventSchema = z.object({
  room_id: RoomIdSchema,
  code: z.enum(['not_a_member', 'room_inactive', 'not_found', 'internal', 'owner_unavailable']),
  reason: z.string(),
});
export type UnsubscribedEvent = z.infer<typeof UnsubscribedEventSchema>;
