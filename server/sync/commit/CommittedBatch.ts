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
  /**
   * The document's state vector when the commit took its updates: what the acknowledgement
   * promises is durable (the document may hold more by now, applied while an asynchronous commit
   * was in flight). Null when no Parley peer was to be acknowledged.
   */
  readonly stateVector: Uint8Array | null;
}

/** One step of what happens after a commit (server/sync/commit/commitStages.ts lists them in order). */
export type CommitStage = (batch: CommittedBatch) => void;
