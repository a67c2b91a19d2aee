import { z } from 'zod';
import { UserIdSchema } from '../ids.ts';
import { UserPresenceSchema } from '../models/userPresence.ts';

/**
 * A member's awareness state as the SDK reads it (client/room/ChatRoom.ts): who (stamped by the
 * server) and whether they are typing. The command gateway writes this shape for command clients
 * and reads it to derive typing events.
 */
export const PeerStateSchema = z.object({
  user: z.object({ id: UserIdSchema, name: z.string() }),
  typing: z.boolean().optional(),
});
export type PeerState = z.infer<typeof PeerStateSchema>;

/** The server's own awareness state in a room (server/presence/PresencePublisher.ts). */
export const ServerPresenceStateSchema = z.object({
  presence: z.record(z.string(), UserPresenceSchema),
});
