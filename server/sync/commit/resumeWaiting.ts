import type { CommittedBatch } from './CommittedBatch.ts';

/** Runs what waited for this commit (Room.whenCommitted): sync step 2 answers, command answers. */
export function resumeWaiting({ room }: CommittedBatch): void {
  room.resumeWaiting();
}
