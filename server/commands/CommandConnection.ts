import type { z } from 'zod';
import type { AuthUser } from '../auth/TokenVerifier.ts';
import type { CloseCodeName } from '../../shared/protocol/closeCodes.ts';
import type { RequestIdSchema } from '../../shared/commands/webSocketCommand.ts';
import type { UnsubscribedEvent } from '../../shared/commands/unsubscribedEvent.ts';
import { CommandOrigin } from './CommandOrigin.ts';
import type { CommandFailure } from './CommandFailure.ts';
import type { RoomSubscription } from './RoomSubscription.ts';

type RequestId = z.infer<typeof RequestIdSchema>;

/**
 * Where a command connection's frames go: its own WebSocket (a SocketConnection, with the send
 * buffer's limit), or, on the node that owns a room, a channel of the link from the node holding
 * the bot's socket (CommandServer.openLinked).
 */
export interface CommandTransport {
  readonly closed: boolean;
  send(frame: string): void;
  close(name: CloseCodeName, reason: string): void;
}

/** One authenticated command connection (/ws/commands, or linked from another node): who it is and which rooms it has joined. */
export class CommandConnection {
  readonly user: AuthUser;
  /** Unique in this process (logs, the origin). */
  readonly id: number;
  readonly #transport: CommandTransport;
  #closed = false;
  /** The transaction origin of every change this connection makes. */
  readonly origin: CommandOrigin;
  /** Joined rooms by id. */
  readonly joined = new Map<string, RoomSubscription>();
  /** Settles when the effects of every command taken so far have been applied (inTurn). */
  #effects: Promise<unknown> = Promise.resolve();

  constructor(transport: CommandTransport, user: AuthUser, id: number) {
    this.#transport = transport;
    this.user = user;
    this.id = id;
    this.origin = new CommandOrigin(user.id, id);
  }

  get closed(): boolean {
    return this.#closed || this.#transport.closed;
  }

  send(frame: string): void {
    if (!this.closed) this.#transport.send(frame);
  }

  close(name: CloseCodeName, reason: string): void {
    this.#transport.close(name, reason);
  }

  /** Marks the connection gone (its socket or channel closed from the other side). */
  markClosed(): void {
    this.#closed = true;
  }

  /**
   * Runs `apply` (a command's checks and its change to a room, not the wait for its commit) once
   * every earlier command's `apply` has settled: the effects of a connection's commands happen in
   * the order the frames arrived (docs/commands.md), though the directory is read asynchronously.
   * Called synchronously when the frame is read, so the turn is the frame's.
   */
  inTurn<T>(apply: () => Promise<T>): Promise<T> {
    const run = this.#effects.then(apply);
    this.#effects = run.then(
      () => {},
      () => {},
    );
    return run;
  }

  answer(type: string, requestId: RequestId | undefined, data: object): void {
    this.send(JSON.stringify({ type, success: true, error: null, data, ...(requestId === undefined ? {} : { request_id: requestId }) }));
  }

  fail(type: string, requestId: RequestId | undefined, failure: CommandFailure): void {
    this.send(JSON.stringify({ type, success: false, error: failure.code, data: failure.data, ...(requestId === undefined ? {} : { request_id: requestId }) }));
  }

  /** The `unsubscribed` event: the server ended the subscription to a room (the connection stays). */
  unsubscribed(event: UnsubscribedEvent): void {
    this.send(JSON.stringify({ type: 'unsubscribed', success: true, error: null, data: event }));
  }
}
