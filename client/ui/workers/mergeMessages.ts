import { z } from 'zod';

/*
 * The messages between the page and the log-merging worker (mergeWorkerMain.ts). Both sides
 * parse what they receive: a worker is our own code, but a message event carries `any`.
 */

export const MergeRequestSchema = z.object({
  id: z.number().int().nonnegative(),
  updates: z.array(z.instanceof(Uint8Array)),
});

export const MergeReplySchema = z.union([
  z.object({ id: z.number().int().nonnegative(), merged: z.instanceof(Uint8Array) }),
  z.object({ id: z.number().int().nonnegative(), error: z.string() }),
]);
