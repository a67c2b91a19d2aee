import { WebSocket } from 'ws';
import type { AuthUser } from '../auth/TokenVerifier.ts';
import type { CloseCodeName } from '../../shared/protocol/closeCodes.ts';
import { closeSocket } from './closeSocket.ts';

export interface SendLimits {
  /** Bytes that may wait unsent before the reader counts as too slow; no limit when absent. */
  maxBufferedBytes?: number;
  /**
   * Allow one frame as large as the largest sent so far on top of maxBufferedBytes. The sync
   * endpoint does: a client on a slow link can then download a room bigger than the limit in its
   * first sync step 2 while updates keep arriving; a second full-state reply on top of a first
   * one still undrained trips it. Command answers are small, so the command endpoint does not.
   */
  allowLargestFrame?: boolean;
  /** Called once when send() closes the connection as a slow consumer (for the log). */
  onSlowConsumer?: (bufferedBytes: number) => void;
}

/**
 * One authenticated WebSocket of any endpoint: who it is, sending under a send-buffer limit, and
 * closing with a named code. The sync and command connections build on it.
 */
export class SocketConnection {
  readonly ws: WebSocket;
  readonly user: AuthUser;
  readonly id: number;
  /** The client reads Parley's error frame before a close (sync `?parley=1`). */
  readonly withError: boolean;
  readonly #limits: SendLimits;
  #largestFrame = 0;
  #closed = false;
  static #nextId = 1;

  constructor(ws: WebSocket, user: AuthUser, withError: boolean, limits: SendLimits = {}) {
    this.ws = ws;
    this.user = user;
    this.withError = withError;
    this.#limits = limits;
    this.id = SocketConnection.nextId();
  }

  /** A connection id unique in this process, shared with connections that have no socket of their own. */
  static nextId(): number {
    return SocketConnection.#nextId++;
  }

  /** Bytes queued on the socket and not yet handed to the kernel. */
  get bufferedBytes(): number {
    return this.ws.bufferedAmount;
  }

  get closed(): boolean {
    return this.#closed || this.ws.readyState !== WebSocket.OPEN;
  }

  /**
   * Queues a frame, unless the reader is too slow: when more than the limit still waits in the
   * send buffer, the connection is closed with SlowConsumer instead, so one stalled reader holds
   * at most that much server memory (plus this frame, plus ws's 30 s closing handshake).
   */
  send(frame: Uint8Array | string): void {
    if (this.closed) return;
    const buffered = this.ws.bufferedAmount;
    const allowance = (this.#limits.maxBufferedBytes ?? Infinity) + (this.#limits.allowLargestFrame ? this.#largestFrame : 0);
    if (buffered > allowance) {
      this.#limits.onSlowConsumer?.(buffered);
      this.close('SlowConsumer', `reading too slowly: ${buffered} bytes wait unread in the send buffer`);
      return;
    }
    const size = typeof frame === 'string' ? Buffer.byteLength(frame) : frame.byteLength;
    if (size > this.#largestFrame) this.#largestFrame = size;
    this.ws.send(frame);
  }

  /**
   * Closes with a named code (see closeSocket); later sends are dropped. `errorCode` names the
   * error a Parley client receives first, the close code's name unless said otherwise (a refused
   * update carries its refusal code, updateRefusals.ts).
   */
  close(name: CloseCodeName, reason = '', errorCode: string = name): void {
    if (this.#closed) return;
    this.#closed = true;
    closeSocket(this.ws, name, reason, this.withError, errorCode);
  }

  /** Marks the connection gone (the socket closed from the other side). */
  markClosed(): void {
    this.#closed = true;
  }
}
