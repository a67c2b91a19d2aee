import type { AuthUser } from '../auth/TokenVerifier.ts';
import type { CloseCodeName } from '../../shared/protocol/closeCodes.ts';

/**
 * What a Room needs of a connected client: who it is, a way to send it frames and to close it.
 * A SyncConnection (a ws socket) is one; tests drive a Room with in-memory peers. A peer is also
 * the transaction origin of every update it sends, so nothing is echoed back to it.
 */
export interface RoomPeer {
  readonly id: number;
  readonly user: AuthUser;
  /** Speaks Parley's additions: gets ack and error frames (`?parley=1`). */
  readonly parley: boolean;
  readonly closed: boolean;
  /** Bytes sent to it that still wait unsent on its socket (what a FramePacer paces by). */
  readonly bufferedBytes: number;
  /** Queues one encoded frame (shared/protocol/frames.ts); may close a slow reader instead. */
  send(frame: Uint8Array): void;
  /** Closes with a named code; a Parley peer gets `errorCode` (default: the code's name) and the reason first. */
  close(name: CloseCodeName, reason?: string, errorCode?: string): void;
}
