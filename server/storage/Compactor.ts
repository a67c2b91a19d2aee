import type { CompactionResult } from './compactRoom.ts';

/** Compacts rooms' logs off the sync path. `request` never blocks; results arrive as events. */
export interface Compactor {
  /** Asks for the room to be compacted soon; repeated requests for a queued room merge. */
  request(roomId: string): void;
  /** Subscribes to finished compactions (and failures); returns the unsubscribe function. */
  onCompacted(listener: (result: CompactionOutcome) => void): () => void;
  /** Finishes the compaction under way, drops the queue (the log keeps everything) and stops. */
  close(): Promise<void>;
}

export type CompactionOutcome = ({ ok: true } & CompactionResult) | { ok: false; roomId: string; error: string };
