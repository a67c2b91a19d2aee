import type * as Y from 'yjs';
import type * as awarenessProtocol from 'y-protocols/awareness';
import type { MessageView } from '../../shared/roomDoc/messageView.ts';
import type { ClientError } from '../errors/ClientError.ts';
import type { BackoffOptions } from './backoff.ts';
import type { SocketOpener } from './SyncSocket.ts';
import type { InboundPacer } from './InboundPacer.ts';

/** What a connection needs from the room replica it syncs. */
export interface SyncPeer {
  readonly roomId: string;
  readonly doc: Y.Doc;
  /** Resolves once every update the document holds is stored on the device. */
  whenStored(): Promise<void>;
  /** The server's state vector, before anything is sent: the peer may need a fresh client id. */
  checkServerState(stateVector: Map<number, number>): Promise<void>;
  /** An update from the server (committed there before it was relayed). */
  applyRemote(update: Uint8Array, origin: unknown): void;
  /** The server committed everything this state vector covers. */
  acknowledged(stateVector: Map<number, number>): void;
  /** The server refused an update of ours (then closed the connection). */
  refused(code: string, reason: string): void;
}

export type TokenProvider = (context: { readonly renew: boolean }) => string | Promise<string>;

export type ConnectionState = 'connecting' | 'online' | 'offline';

export interface ConnectionEvents {
  [name: string]: unknown;
  state: ConnectionState;
  /** The first server syncStep2 of a socket was applied: the replica holds what the server had. */
  synced: undefined;
  ack: Map<number, number>;
  /** Reconnecting cannot help (not a member, no such room). */
  stopped: ClientError;
  /** The server refused an update of ours: the connection goes on reading, holding our writes. */
  refused: ClientError;
  /** A segmented room's newest messages, sent with the head's greeting (shared/protocol/recentPage.ts). */
  recent: readonly MessageView[];
  /** Something to tell the app that does not stop the connection (malformed frame, token failure). */
  error: ClientError;
}

export interface RoomConnectionOptions {
  readonly getToken: TokenProvider;
  /** Opens the socket for the room (SyncSocket's channels, or socketPerDocument). */
  readonly openSocket: SocketOpener;
  readonly backoff?: BackoffOptions;
  /** Presence and typing; the connection relays its local state and applies remote states. */
  readonly awareness?: awarenessProtocol.Awareness;
  /** Close and reconnect when nothing arrived for this long (the server speaks every 15 s). */
  readonly silenceMs?: number;
  /**
   * Largest frame this connection sends. A reconnect's backlog and large live updates are split
   * into several updates under it, so it must stay under the server's PARLEY_MAX_FRAME_BYTES.
   * Default 512 KiB (DEFAULT_MAX_FRAME_BYTES).
   */
  readonly maxFrameBytes?: number;
  /** Applies what arrives under this pacer's time budget, in order (an older segment's download); without it, at once. */
  readonly pacer?: InboundPacer;
}
