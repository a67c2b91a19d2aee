import type { RawData } from 'ws';
import type { EndpointDeps } from '../EndpointDeps.ts';
import { checkRoomAccess } from '../access/checkRoomAccess.ts';
import { TokenBucket } from '../limits/TokenBucket.ts';
import type { SocketConnection } from '../ws/SocketConnection.ts';
import { frameBytes } from '../ws/SocketEndpoint.ts';
import { CloseCode } from '../../shared/protocol/closeCodes.ts';
import { type ControlFrame, decodeMuxFrame, encodeControl } from '../../shared/protocol/muxFrames.ts';
import { ChannelPeer } from './ChannelPeer.ts';
import { RoomAttachment } from './RoomAttachment.ts';

/** Opens and closes one socket may make per second, after a burst of opening and closing every document it may hold, plus this. */
const CONTROL_PER_SECOND = 50;

/**
 * One multiplexed sync socket (`/ws/sync`, muxFrames.ts): the client opens a channel per
 * document, and each channel is a room peer (ChannelPeer) with the same rules as a socket on
 * /sync/<roomId>: the membership check when it opens, the validator, acks, relay after commit,
 * the frame rate limits (per channel), the room's limits. A channel the server ends (a refused
 * update, a removed member) ends alone; what concerns the socket (a malformed mux frame, too many
 * opens and closes, a slow reader) closes the socket.
 */
export class MuxConnection {
  readonly #socket: SocketConnection;
  readonly #deps: EndpointDeps;
  readonly #channels = new Map<number, { peer: ChannelPeer; attachment: RoomAttachment }>();
  readonly #control: TokenBucket;
  /** Channel numbers only grow on a socket: a frame for a closed channel is never taken for a new one. */
  #highest = 0;

  constructor(socket: SocketConnection, deps: EndpointDeps) {
    this.#socket = socket;
    this.#deps = deps;
    this.#control = new TokenBucket({ capacity: 2 * this.#maxChannels + CONTROL_PER_SECOND, refillPerSecond: CONTROL_PER_SECOND });
  }

  get #maxChannels(): number {
    return this.#deps.limits.maxDocsPerConnection;
  }

  /** Documents open on this socket. */
  get channels(): number {
    return this.#channels.size;
  }

  receive(data: RawData, isBinary: boolean): void {
    const socket = this.#socket;
    // Frames that were already in flight when the server decided to close are dropped unread.
    if (socket.closed) return;
    if (!isBinary) return socket.close('ProtocolError', 'text frames are not part of the sync protocol');
    const decoded = decodeMuxFrame(frameBytes(data));
    if (!decoded.ok) return socket.close('ProtocolError', decoded.reason);
    const { frame } = decoded;
    if ('control' in frame) return this.#controlFrame(frame.control);
    // A channel the server closed may still get frames the client sent before it knew: dropped.
    this.#channels.get(frame.channel)?.attachment.receive(frame.body);
  }

  /** The socket closed: every channel leaves its room. */
  closed(): void {
    for (const { peer, attachment } of this.#channels.values()) {
      peer.markClosed();
      attachment.detach();
    }
    this.#channels.clear();
  }

  #controlFrame(control: ControlFrame): void {
    const socket = this.#socket;
    if (!this.#control.take()) {
      this.#deps.logger.warn({ user: socket.user.id, conn: socket.id }, 'sync connection rate limited: channel opens and closes');
      return socket.close('RateLimited', `more than ${this.#control.capacity} channel opens and closes in a burst or ${CONTROL_PER_SECOND} per second`);
    }
    switch (control.type) {
      case 'open':
        return this.#open(control.channel, control.document);
      case 'close': {
        const open = this.#channels.get(control.channel);
        if (!open) return;
        this.#channels.delete(control.channel);
        open.peer.markClosed();
        open.attachment.detach();
        return;
      }
      case 'closed':
        return socket.close('ProtocolError', 'only the server sends closed');
    }
  }

  #open(channel: number, document: string): void {
    const socket = this.#socket;
    if (channel <= this.#highest) return socket.close('ProtocolError', `channel ${channel} was used before on this socket: channel numbers must grow`);
    this.#highest = channel;
    const refuse = (code: number, errorCode: string, reason: string): void => socket.send(encodeControl({ type: 'closed', channel, code, errorCode, reason }));
    if (this.#channels.size >= this.#maxChannels) {
      return refuse(CloseCode.TooManyConnections, 'TooManyConnections', `more than ${this.#maxChannels} documents open on one connection`);
    }
    const access = checkRoomAccess(this.#deps.directory, document, socket.user.id);
    if (!access.ok) return refuse(CloseCode[access.close], access.close, access.reason);
    const peer = new ChannelPeer(socket, channel, (closed) => {
      // The server ended the channel (a refusal, a removal): it leaves its room.
      const open = this.#channels.get(closed.channel);
      if (open?.peer !== closed) return;
      this.#channels.delete(closed.channel);
      open.attachment.detach();
    });
    let attachment: RoomAttachment;
    try {
      attachment = new RoomAttachment(peer, document, this.#deps);
    } catch (err) {
      // A room that cannot be loaded (a corrupt snapshot, a storage fault) fails this channel only.
      this.#deps.logger.error({ err, room: document, user: socket.user.id }, 'sync channel failed to open');
      return peer.close('InternalError', 'internal error');
    }
    // Closed while it opened (by its room, say): it leaves again at once.
    if (peer.closed) attachment.detach();
    else this.#channels.set(channel, { peer, attachment });
  }
}
