import { z } from 'zod';
import type { StorageWorker } from '../storage/StorageWorker.ts';
import type { RoomSlices } from './Room.ts';

const SlicesReplySchema = z.union([
  z.object({
    ok: z.literal(true),
    frames: z.array(z.instanceof(Uint8Array)),
    clientOwners: z.array(z.tuple([z.number(), z.string()])),
    logUpdates: z.number(),
    logBytes: z.number(),
    snapshotBytes: z.number(),
  }),
  z.object({ ok: z.literal(false), error: z.string() }),
]);

/**
 * The size of one slice of a big room: applying 16 KiB of messages (about 60, with the message
 * index following) takes 1 to 2 ms, so a room loading delays another room's message by no more
 * than that; the same slices are the frames of the whole-room reply to joiners.
 */
export const LOAD_SLICE_BYTES = 16 * 1024;

/**
 * RoomRegistry's loader for big rooms: the storage worker reads the room, merges it and cuts the
 * state into dependency-ordered updates of about LOAD_SLICE_BYTES each, framed as the whole-room
 * reply (a step 2, then updates), which Room.loadInSlices applies one per event-loop turn.
 */
export function workerRoomLoader(worker: StorageWorker): (roomId: string) => Promise<RoomSlices> {
  return async (roomId) => {
    const reply = SlicesReplySchema.safeParse(await worker.request({ kind: 'loadChunks', roomId, chunkBytes: LOAD_SLICE_BYTES }));
    if (!reply.success) throw new Error('malformed storage worker reply');
    if (!reply.data.ok) throw new Error(`loading room ${roomId} failed: ${reply.data.error}`);
    return reply.data;
  };
}
