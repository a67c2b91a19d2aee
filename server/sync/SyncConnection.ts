import { WebSocket } from 'ws';
import type { AuthUser } from '../auth/TokenService.ts';
import { encodeError } from '../../shared/protocol/parleyMessages.ts';
import { CloseCode, type CloseCodeName } from '../../shared/errors/closeCodes.ts';

/** Close reasons are at most 123 bytes (RFC 6455); longer ones are cut at a character boundary. */
function clampReason(reason: string): string {
  let out = reason;
  while (Buffer.byteLength(out) > 123) out = out.slice(0, -1);
  return out;
}

/**
 * Query parameter by which a client declares it understands Parley's extra messages (ack,
 * error): `?parley=1`. Stock y-websocket clients leave it out and get neither, since they log
 * "Unable to compute message" for every message type they do not know.
 */
export const PARLEY_PROTOCOL_PARAM = 'parley';
export const PARLEY_PROTOCOL_VERSION = '1';

/**
 * Closes a socket with a named code. For error codes, a Parley client (`withError`) also gets
 * the reason first as an error message, which it can read even where the close reason is lost.
 */
export function closeSocket(ws: WebSocket, name: CloseCodeName, reason: string, withError: boolean, errorCode: string = name): void {
  const code = CloseCode[name];
  if (ws.readyState !== WebSocket.OPEN && ws.readyState !== WebSocket.CONNECTING) return;
  if (withError && ws.readyState === WebSocket.OPEN && (code >= 4000 || code === CloseCode.ProtocolError)) {
    ws.send(encodeError(errorCode, reason));
  }
  ws.close(code, clampReason(errorCode === name ? reason : `${errorCode}: ${reason}`));
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
  static #nextId = 1;

  /** The client speaks Parley's extra messages (acks, errors). */
  readonly parley: boolean;

  constructor(ws: WebSocket, user: AuthUser, roomId: string, parley: boolean) {
    this.ws = ws;
    this.parley = parley;
    this.user = user;
    this.roomId = roomId;
    this.id = SyncConnection.#nextId++;
  }

  get closed(): boolean {
    return this.#closed || this.ws.readyState !== WebSocket.OPEN;
  }

  send(bytes: Uint8Array): void {
    if (this.closed) return;
    this.ws.send(bytes);
  }

  /** Closes with a named code (see closeSocket); later sends are dropped. */
  close(name: CloseCodeName, reason = ''): void {
    if (this.#closed) return;
    this.#closed = true;
    closeSocket(this.ws, name, reason, this.parley);
  }

  /**
   * Closes after a refused update: a Parley client gets `error(errorCode, reason)` with the
   * refusal's code (updateRefusals.ts); the close reason carries `errorCode: reason` for others.
   */
  refuse(name: CloseCodeName, errorCode: string, reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    closeSocket(this.ws, name, reason, this.parley, errorCode);
  }

  /** Marks the connection gone (the socket closed from the other side). */
  markClosed(): void {
    this.#closed = true;
  }
}
