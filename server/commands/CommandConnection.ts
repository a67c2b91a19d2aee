import { WebSocket } from 'ws';
import type { AuthUser } from '../auth/TokenVerifier.ts';
import { closeSocket } from '../sync/SyncConnection.ts';
import type { CloseCodeName } from '../../shared/protocol/closeCodes.ts';
import type { RequestIdSchema } from '../../shared/commands/webSocketCommand.ts';
import type { z } from 'zod';
import { CommandOrigin } from './CommandOrigin.ts';
import type { CommandFailure } from './CommandFailure.ts';
import type { RoomSubscription } from './RoomSubscription.ts';

type RequestId = z.infer<typeof RequestIdSchema>;

/** One authenticated socket on /ws/commands: who it is and which rooms it has joined. */
export class CommandConnection {
  readonly ws: WebSocket;
  readonly user: AuthUser;
  readonly id: number;
  /** The transaction origin of every change this connection makes. */
  readonly origin: CommandOrigin;
  /** Joined rooms by id. */
  readonly joined = new Map<string, RoomSubscription>();
  readonly #maxBufferedBytes: number;
  readonly #onSlowConsumer: (buffered: number) => void;
  #closed = false;
  static #nextId = 1;

  constructor(ws: WebSocket, user: AuthUser, limits: { maxBufferedBytes: number; onSlowConsumer: (buffered: number) => void }) {
    this.ws = ws;
    this.user = user;
    this.id = CommandConnection.#nextId++;
    this.origin = new CommandOrigin(user.id, this.id);
    this.#maxBufferedBytes = limits.maxBufferedBytes;
    this.#onSlowConsumer = limits.onSlowConsumer;
  }

  get closed(): boolean {
    return this.#closed || this.ws.readyState !== WebSocket.OPEN;
  }

  /**
   * Queues a text frame, unless more than `maxBufferedBytes` already wait unsent: then the reader
   * is too slow and is closed (SlowConsumer), so one stalled reader holds bounded server memory.
   */
  send(frame: string): void {
    if (this.closed) return;
    const buffered = this.ws.bufferedAmount;
    if (buffered > this.#maxBufferedBytes) {
      this.#onSlowConsumer(buffered);
      this.close('SlowConsumer', `reading too slowly: ${buffered} bytes wait unread in the send buffer`);
      return;
    }
    this.ws.send(frame);
  }

  answer(type: string, requestId: RequestId | undefined, data: object): void {
    this.send(JSON.stringify({ type, success: true, error: null, data, ...(requestId === undefined ? {} : { request_id: requestId }) }));
  }

  fail(type: string, requestId: RequestId | undefined, failure: CommandFailure): void {
    this.send(JSON.stringify({ type, success: false, error: failure.code, data: failure.data, ...(requestId === undefined ? {} : { request_id: requestId }) }));
  }

  close(name: CloseCodeName, reason = ''): void {
    if (this.#closed) return;
    this.#closed = true;
    closeSocket(this.ws, name, reason, false);
  }

  markClosed(): void {
    this.#closed = true;
  }
}
