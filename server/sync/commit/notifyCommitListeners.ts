import type { CommittedBatch } from './CommittedBatch.ts';

/** Hands the committed updates to the room's subscribers (the command gateway's event feeds). */
export function notifyCommitListeners(batch: CommittedBatch): void {
  if (batch.updates.length > 0) batch.room.notifyCommitted(batch.updates);
}
