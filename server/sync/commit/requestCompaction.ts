import type { CommittedBatch } from './CommittedBatch.ts';

/** Asks for compaction once the room's log passed its thresholds (the compactor works off the sync path). */
export function requestCompaction({ room, updates }: CommittedBatch): void {
  if (updates.length > 0 && room.logIsDueForCompaction) room.requestCompaction();
}
