import { WebSocket } from 'ws';
import type { AuthUser } from '../auth/TokenVerifier.ts';
import { encodeFrame } from '../../shared/protocol/frames.ts';
import { CloseCode, type CloseCodeName } from '../../shared/protocol/closeCodes.ts';

/** Close reasons are at most 123 bytes (RFC 6455); longer ones are cut at a character boundary. */
function clampReason(reason: string): string {
  let out = reason;
  while (Buffer.byteLength(out) > 123) out = out.slice(0, -1);
  return out;
}

/**
 * Closes a socket with a named code. For error codes, a Parley client (`withError`) also gets
 * the reason first as an error message, which it can read even where the close reason is lost.
 */
export function closeSocket(ws: WebSocket, name: CloseCodeName, reason: string, withError: boolean, errorCode: string = name): void {
  const code = CloseCode[name];
  if (ws.readyState !== WebSocket.OPEN && ws.readyState !== WebSocket.CONNECTING) return;
  if (withError && ws.readyState === WebSocket.OPEN && (code >= 4000 || code === CloseCode.ProtocolError)) {
    ws.send(encodeFrame({ type: 'error', code: errorCode, reason }));
  }
  ws.close(code, clampReason(errorCode === name ? reason : `${errorCode}: ${reason}`));
}

export interface SendLimits {
  /** See SyncConnection.send; no limit when absent. */
  maxBufferedBytes?: number;
  /** Called once when send() closes the connection as a slow consumer (for the log). */
  onSlowConsumer?: (bufferedBytes: number) => void;
}

/** One authenticated WebSocket on /sync/<roomId>: who it is and which awareness client ids it controls. */
export class SyncConnection {
  readonly ws: WebSocket;
  readonly user: AuthUser;
  readonly roomId: string;
  readonly id: number;
  /** Awareness client ids this connection has set states for; removed when it closes. */
  readonly awarenessClients = new Set<number>();
  /** Set when the connection sent updates that the next commit must acknowledge. */
  awaitingAck = false;
  #closed = false;
  /** See send(): the send-buffer limit, and the largest frame sent so far (allowed on top of it). */
  readonly #maxBufferedBytes: number;
  readonly #onSlowConsumer: ((bufferedBytes: number) => void) | undefined;
  #largestFrame = 0;
  static #nextId = 1;

  /** The client speaks Parley's extra messages (acks, errors). */
  readonly parley: boolean;

  constructor(ws: WebSocket, user: AuthUser, roomId: string, parley: boolean, limits: SendLimits = {}) {
    this.ws = ws;
    this.#maxBufferedBytes = limits.maxBufferedBytes ?? Infinity;
    this.#onSlowConsumer = limits.onSlowConsumer;
    this.parley = parley;
    this.user = user;
    this.roomId = roomId;
    this.id = SyncConnection.#nextId++;
  }

  get closed(): boolean {
    return this.#closed || this.ws.readyState !== WebSocket.OPEN;
  }

  /**
   * Queues a frame, unless the reader is too slow: when more than `maxBufferedBytes` plus the
   * largest frame sent so far still waits in the send buffer, the connection is closed with
   * SlowConsumer instead, so one stalled reader holds at most that much server memory (plus this
   * frame, plus ws's 30 s closing handshake). The allowance of one largest frame lets a client on
   * a slow link download a room bigger than the limit in its first sync step 2 while updates keep
   * arriving; a second full-state reply on top of a first one still undrained trips it.
   */
  send(bytes: Uint8Array): void {
    if (this.closed) return;
    const buffered = this.ws.bufferedAmount;
    if (buffered > this.#maxBufferedBytes + this.#largestFrame) {
      this.#onSlowConsumer?.(buffered);
      this.close('SlowConsumer', `reading too slowly: ${buffered} bytes wait unread in the send buffer`);
      return;
    }
    if (bytes.byteLength > this.#largestFrame) this.#largestFrame = bytes.byteLength;
    this.ws.send(bytes);
  }

  /**
   * Closes with a named code (see closeSocket); later sends are dropped. `errorCode` names the
   * error a Parley client receives first, the close code's name unless said otherwise (a refused
   * update carries its refusal code, updateRefusals.ts).
   */
  close(name: CloseCodeName, reason = '', errorCode: string = name): void {
    if (this.#closed) return;
    this.#closed = true;
    closeSocket(this.ws, name, reason, this.parley, errorCode);
  }

  /** Marks the connection gone (the socket closed from the other side). */
  markClosed(): void {
    this.#closed = true;
  }
}
