import type { WebSocket } from 'ws';
import type { z } from 'zod';
import type { AuthUser } from '../auth/TokenVerifier.ts';
import { SocketConnection } from '../ws/SocketConnection.ts';
import type { RequestIdSchema } from '../../shared/commands/webSocketCommand.ts';
import { CommandOrigin } from './CommandOrigin.ts';
import type { CommandFailure } from './CommandFailure.ts';
import type { RoomSubscription } from './RoomSubscription.ts';

type RequestId = z.infer<typeof RequestIdSchema>;

/** One authenticated socket on /ws/commands: who it is and which rooms it has joined. */
export class CommandConnection extends SocketConnection {
  /** The transaction origin of every change this connection makes. */
  readonly origin: CommandOrigin;
  /** Joined rooms by id. */
  readonly joined = new Map<string, RoomSubscription>();
  /** Settles when the effects of every command taken so far have been applied (inTurn). */
  #effects: Promise<unknown> = Promise.resolve();

  constructor(ws: WebSocket, user: AuthUser, limits: { maxBufferedBytes: number; onSlowConsumer: (buffered: number) => void }) {
    // JSON clients read close codes only: no error frame before a close.
    super(ws, user, false, limits);
    this.origin = new CommandOrigin(user.id, this.id);
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
}
