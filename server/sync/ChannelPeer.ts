import type { AuthUser } from '../auth/TokenVerifier.ts';
import { CloseCode, type CloseCodeName } from '../../shared/protocol/closeCodes.ts';
import { encodeControl, encodeOnChannel } from '../../shared/protocol/muxFrames.ts';
import type { SocketConnection } from '../ws/SocketConnection.ts';
import type { RoomPeer } from './RoomPeer.ts';

/**
 * A room's peer on one channel of a multiplexed socket (muxFrames.ts): its frames go out on its
 * channel, and closing it ends the channel with a `closed` control frame (code, error code and
 * reason), not the socket. Always speaks Parley's additions.
 */
export class ChannelPeer implements RoomPeer {
  readonly id: number;
  readonly channel: number;
  readonly #socket: SocketConnection;
  readonly #user: AuthUser;
  readonly #onClosed: (peer: ChannelPeer) => void;
  #closed = false;
  static #nextId = 1;

  /** `user`: the socket's, or on a link between nodes the one the channel was opened as. */
  constructor(socket: SocketConnection, channel: number, user: AuthUser, onClosed: (peer: ChannelPeer) => void) {
    this.#socket = socket;
    this.#user = user;
    this.channel = channel;
    this.#onClosed = onClosed;
    // Negative: never the id of a socket connection (RoomPeer ids only need to differ).
    this.id = -ChannelPeer.#nextId++;
  }

  get user(): AuthUser {
    return this.#user;
  }

  get parley(): boolean {
    return true;
  }

  get closed(): boolean {
    return this.#closed || this.#socket.closed;
  }

  get bufferedBytes(): number {
    return this.#socket.bufferedBytes;
  }

  send(frame: Uint8Array): void {
    if (this.closed) return;
    this.#socket.send(encodeOnChannel(this.channel, frame));
  }

  /** Ends the channel: the client hears why; the socket and its other channels stay. */
  close(name: CloseCodeName, reason = '', errorCode: string = name): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#socket.send(encodeControl({ type: 'closed', channel: this.channel, code: CloseCode[name], errorCode, reason }));
    this.#onClosed(this);
  }

  /** The client closed the channel, or the socket went: nothing more is sent. */
  markClosed(): void {
    this.#closed = true;
  }
}
