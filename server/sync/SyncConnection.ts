import type { WebSocket } from 'ws';
import type { AuthUser } from '../auth/TokenVerifier.ts';
import { SocketConnection, type SendLimits } from '../ws/SocketConnection.ts';
import type { RoomPeer } from './RoomPeer.ts';

/** One authenticated WebSocket on /sync/<roomId>: a room's peer over ws. */
export class SyncConnection extends SocketConnection implements RoomPeer {
  readonly roomId: string;

  constructor(ws: WebSocket, user: AuthUser, roomId: string, parley: boolean, limits: Omit<SendLimits, 'allowLargestFrame'> = {}) {
    super(ws, user, parley, { ...limits, allowLargestFrame: true });
    this.roomId = roomId;
  }

  /** The client speaks Parley's extra frames (acks, errors). */
  get parley(): boolean {
    return this.withError;
  }
}
