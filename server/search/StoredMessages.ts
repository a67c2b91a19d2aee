import { z } from 'zod';
import type { StorageWorker } from '../storage/StorageWorker.ts';
import { UserIdSchema } from '../../shared/ids.ts';
import { MessageTypeSchema } from '../../shared/models/chatMessage.ts';

/** A stored message as the search backfill reads it. */
export const StoredMessageSchema = z.object({
  id: z.string(),
  senderId: UserIdSchema.nullable(),
  type: MessageTypeSchema,
  createdAt: z.number().int(),
  content: z.string(),
  /** Deleted (a deletion record, or a tombstone value). */
  deleted: z.boolean(),
});
export type StoredMessage = z.infer<typeof StoredMessageSchema>;

const RangeReply = z.union([
  z.object({ ok: z.literal(true), messages: z.array(StoredMessageSchema), total: z.number().int().nonnegative(), stateVector: z.instanceof(Uint8Array).nullable() }),
  z.object({ ok: z.literal(false), error: z.string() }),
]);

export interface MessageRange {
  readonly messages: readonly StoredMessage[];
  /** Messages the document holds. */
  readonly total: number;
  /** With the document's last range: its state vector, as read. */
  readonly stateVector: Uint8Array | null;
}

/** Reads a stored document's messages range by range, decoded off the main thread (the storage worker). */
export type ReadMessageRange = (docName: string, from: number, count: number) => Promise<MessageRange>;

export function workerMessageRanges(worker: StorageWorker): ReadMessageRange {
  return async (docName, from, count) => {
    const reply = RangeReply.safeParse(await worker.request({ kind: 'messageRange', roomId: docName, from, count }));
    if (!reply.success) throw new Error('malformed storage worker reply');
    if (!reply.data.ok) throw new Error(`reading ${docName} failed: ${reply.data.error}`);
    return reply.data;
  };
}
