import type { ClientError } from '../errors/ClientError.ts';
import type { ConnectionState } from './connectionTypes.ts';
import type { WebSocketLike } from './WebSocketLike.ts';

/** Everything that lives and dies with one socket: nothing of it outlasts the socket. */
export interface Socket {
  readonly ws: WebSocketLike;
  /** Our syncStep2 went out: live updates may follow (never before: clock gaps). */
  handshakeSent: boolean;
  /**
   * The document holds everything the server had when this socket joined: its first syncStep2
   * was applied, and every piece after it (a big document's answer comes as a step 2 and updates)
   * up to the state vector of the server's greeting step 1.
   */
  synced: boolean;
  /** The server's greeting step 1 (its state vector then), once it came. */
  serverState: Map<number, number> | null;
  /** The server's first syncStep2 was applied. */
  answered: boolean;
  /** The error frame the server sent before closing, if any. */
  lastError: { code: string; reason: string } | null;
  /** Stored local updates waiting for the end of the turn, sent merged (see sendUpdate). */
  outbox: Uint8Array[];
  /** Cancels the watch for the server's silence on this socket (watchSilence). */
  silence: (() => void) | null;
}

/**
 * Where the connection is in its life. `idle`: no socket and no retry planned (before connect(),
 * or between dropping a socket and opening the next). `fetchingToken`: asking for a token for a
 * new socket. `socket`: a socket exists (opening, handshaking or live: see Socket). `waiting`:
 * backing off before the next attempt. `stopped`: reconnecting cannot help. `closed`: for good.
 */
export type Phase =
  | { readonly kind: 'idle' }
  | { readonly kind: 'fetchingToken' }
  | { readonly kind: 'socket'; readonly socket: Socket }
  | { readonly kind: 'waiting'; readonly timer: ReturnType<typeof setTimeout> }
  | { readonly kind: 'stopped'; readonly error: ClientError }
  | { readonly kind: 'closed' };

export function stateOf(phase: Phase): ConnectionState {
  switch (phase.kind) {
    case 'fetchingToken':
      return 'connecting';
    case 'socket':
      return phase.socket.synced ? 'online' : 'connecting';
    case 'idle':
    case 'waiting':
    case 'stopped':
    case 'closed':
      return 'offline';
    default: {
      const unknown: never = phase;
      throw new Error(`unknown phase ${JSON.stringify(unknown)}`);
    }
  }
}
