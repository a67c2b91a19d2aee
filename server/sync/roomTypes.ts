import type { Logger } from '../log.ts';
import type { Compactor } from '../storage/Compactor.ts';
import type { CommitQueue } from './CommitQueue.ts';
import type { CommitStage, CommittedUpdate } from './commit/CommittedBatch.ts';
import type { RoomPeer } from './RoomPeer.ts';
import type { Room } from './Room.ts';
import type { Verdict } from '../validation/validateUpdate.ts';
import type { FramePacer } from '../ws/FramePacer.ts';
import type { UserRateLimiter } from '../limits/UserRateLimiter.ts';

/* What a Room is built from and how it is loaded: the types around server/sync/Room.ts. */

/**
 * Decides whether a peer may apply an update to the room (the write-permission seam): accepted
 * with the client ids it newly binds to the sender, or refused.
 */
export type UpdateGate = (room: Room, peer: RoomPeer, update: Uint8Array) => Verdict;

export interface RoomOptions {
  compactor: Compactor;
  queue: CommitQueue;
  logger: Logger;
  gate: UpdateGate;
  /** What runs after each commit, in order (commit/commitStages.ts). */
  stages: readonly CommitStage[];
  /** Runs before each commit takes the room's updates: derived writes made here share its transaction (ThreadSummaries). */
  beforeCommit?: (room: Room) => void;
  /** Compact the log once this many updates (or bytes) sit after the snapshot. */
  compactUpdates: number;
  compactBytes: number;
  /** Refuse updates once the stored room (snapshot plus log) would pass this many bytes. */
  maxDocBytes: number;
  /**
   * Bytes each member may add to a room, per `${roomId}/${userId}` key (shared by every room of
   * the server, so that it outlives a room's unloading); none: no per-member limit.
   */
  memberGrowth?: UserRateLimiter;
  /** The commit failed; the registry must drop this room (its memory holds undurable changes). */
  onFailed?: (room: Room) => void;
  /**
   * Reads a room's stored state and cuts it into pieces off the main thread (the storage
   * worker): the whole-room step 2 of a room stored larger than `aboveBytes` is made this way.
   */
  wholeRoomFromStorage?: { readonly loader: (roomId: string) => Promise<RoomSlices>; readonly aboveBytes: number };
  /** Sends a reply of several frames (a big room's whole-room reply) paced; without one, at once. */
  pacer?: FramePacer;
}


/** What a room needs to know of its stored form, however it was loaded. */
export interface StoredShape {
  readonly snapshotBytes: number;
  readonly logUpdates: number;
  readonly logBytes: number;
  readonly clientOwners: Iterable<readonly [clientId: number, userId: string]>;
}

/**
 * A room's state cut into dependency-ordered updates (by the storage worker), each already framed
 * as the whole-room reply's frames: a sync step 2, then updates (shared/protocol/frames.ts).
 */
export interface RoomSlices extends StoredShape {
  readonly frames: readonly Uint8Array[];
}

/** Called after each commit with the updates it made durable, in the order they were applied. */
export type CommitListener = (updates: readonly CommittedUpdate[]) => void;

/** Client ids a step 1 may name beyond those the room has (a client's own new ids, with writes not sent yet). */
export const MAX_UNKNOWN_STATE_VECTOR_ENTRIES = 1024;

/** A sync step 1 the room will not answer: the peer is closed with ProtocolError and this reason. */
export class StepOneRefused extends Error {}
