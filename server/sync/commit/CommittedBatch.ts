import type { Room } from '../Room.ts';
import type { RoomPeer } from '../RoomPeer.ts';

/** One update made durable by a group commit, with where it came from. */
export interface CommittedUpdate {
  /** The room's running number for updates applied to it (see Room.lastAppliedSeq). */
  readonly seq: number;
  readonly update: Uint8Array;
  /** The transaction origin: the peer that sent it, a command origin, or the server. */
  readonly origin: unknown;
}

/** What one room's part of a group commit made durable: every commit stage is fed this value. */
export interface CommittedBatch {
  readonly room: Room;
  /** In the order they were applied; empty when only acknowledgements or waiting callbacks were due. */
  readonly updates: readonly CommittedUpdate[];
  /** Peers that sent updates this commit covers and have not been acknowledged yet. */
  readonly writers: readonly RoomPeer[];
}

/** One step of what happens after a commit (server/sync/commit/commitStages.ts lists them in order). */
export type CommitStage = (batch: CommittedBatch) => void;
