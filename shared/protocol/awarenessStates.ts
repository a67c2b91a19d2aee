import { z } from 'zod';
import { UserIdSchema } from '../ids.ts';
import { UserPresenceSchema } from '../models/userPresence.ts';

/*
 * The awareness states of a room (docs/protocol.md, "Awareness"). The one copy: the SDK reads
 * them, the server stamps and writes them, the command gateway derives typing and presence
 * events from them.
 */

/**
 * A member's state: who (stamped by the server with the authenticated identity, whatever the
 * client sent) and whether they are typing. Clients may add fields of their own (a colour, say).
 */
export const PeerStateSchema = z.object({
  user: z.object({ id: UserIdSchema, name: z.string() }),
  typing: z.boolean().optional(),
});
export type PeerState = z.infer<typeof PeerStateSchema>;

/** Marks the server's own awareness entry in a room. */
export const SERVER_AWARENESS_KIND = 'server';

/** The server's own state in every room: the presence of the room's members. */
export const ServerPresenceStateSchema = z.object({
  parley: z.literal(SERVER_AWARENESS_KIND),
  presence: z.record(UserIdSchema, UserPresenceSchema),
});
export type ServerPresenceState = z.infer<typeof ServerPresenceStateSchema>;
