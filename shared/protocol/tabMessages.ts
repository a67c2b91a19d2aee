import { z } from 'zod';

/*
 * What tabs of one user on one device tell each other over a BroadcastChannel named
 * `parley:<dbName>` (tabChannelName). Every tab shares the same IndexedDB database, so a message
 * only says where to look; the data itself is read from the database.
 */

/**
 * A tab stored new entries in a room's update log. `remote: true`: only what the server sent,
 * which tabs with the room open get on their own socket (they ignore it), while tabs without it
 * open refresh the room's summary from the store.
 */
export const RoomGrewMessageSchema = z.object({
  roomId: z.string(),
  remote: z.boolean().optional(),
});
export type RoomGrewMessage = z.infer<typeof RoomGrewMessageSchema>;

/** Every message on the tab channel (one kind today; a union as kinds are added). */
export const TabMessageSchema = RoomGrewMessageSchema;
export type TabMessage = z.infer<typeof TabMessageSchema>;

/** The BroadcastChannel name shared by every tab on one local database. */
export const tabChannelName = (dbName: string): string => `parley:${dbName}`;
