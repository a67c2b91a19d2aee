import type { RawData } from 'ws';
import type { EndpointDeps } from '../EndpointDeps.ts';
import type { AccessDecision } from '../access/checkRoomAccess.ts';
import { TokenBucket } from '../limits/TokenBucket.ts';
import type { SocketConnection } from '../ws/SocketConnection.ts';
import { frameBytes } from '../ws/SocketEndpoint.ts';
import { CloseCode } from '../../shared/protocol/closeCodes.ts';
import { type ControlFrame, decodeMuxFrame, encodeControl, encodeOnChannel } from '../../shared/protocol/muxFrames.ts';
import { FEED_DOCUMENT } from '../../shared/models/userFeed.ts';
import { FeedChannel } from '../feed/FeedChannel.ts';
import type { UserFeed } from '../feed/UserFeed.ts';
import { ChannelPeer } from './ChannelPeer.ts';
import type { AuthUser } from '../auth/TokenVerifier.ts';
import { UserSchema } from '../../shared/models/user.ts';
import type { ChannelRoute, ForwardHandlers, ForwardedChannel } from './ChannelRouter.ts';
import { RoomAttachment } from './RoomAttachment.ts';
import type { LinkedCommands } from './LinkedCommands.ts';

/** Opens and closes one socket may make per second, after a burst of opening and closing every document it may hold, plus this. */
const CONTROL_PER_SECOND = 50;

/** Channels a link between nodes may hold: every forwarded document of every client of the other node. */
const LINK_MAX_CHANNELS = 1_000_000;

/** Whether a user may open a document (checkRoomAccess, through the endpoint's AccessGuard). */
/**
 * Whether the user may open the document; `joined` (when allowed) is called once the channel's peer
 * is where a membership recheck finds it (RoomAttachment), to recheck if one began meanwhile.
 */
export type ChannelAccess = (document: string, userId: string) => Promise<AccessDecision & { readonly joined?: () => void }>;

/**
 * One multiplexed sync socket (`/ws/sync`, muxFrames.ts): the client opens a channel per
 * document, and each channel is a room peer (ChannelPeer) with the same rules as a socket on
 * /sync/<roomId>: the membership check when it opens, the validator, acks, relay after commit,
 * the frame rate limits (per channel), the room's limits. A channel the server ends (a refused
 * update, a removed member) ends alone; what concerns the socket (a malformed mux frame, too many
 * opens and closes, a slow reader) closes the socket.
 *
 * The membership check reads the directory asynchronously, and a client sends a channel's frames
 * right after its `open`, so a channel is pending until its check answers (PendingChannel): its
 * frames wait there in order and go to the room once it opens, or are dropped if it is refused,
 * as frames for a channel the server closed are. A `close` meanwhile, or the socket closing,
 * forgets it: the check's answer then attaches nothing. A pending channel counts towards the
 * socket's documents. Frames of an open channel go straight to its room, with no await.
 *
 * With several nodes (EndpointDeps.router), a channel whose room another node owns is forwarded
 * to it after the check (docs/scale-out.md, "Routing"): its frames go to the owner unchanged and
 * the owner's come back on the channel. A link from another node (`link`, /ws/internal) opens its
 * channels with `openAs`, each as the user that node authenticated, and serves them here only:
 * a room this node does not own is refused with OwnerUnavailable, never forwarded again.
 */
export class MuxConnection {
  readonly #socket: SocketConnection;
  readonly #deps: EndpointDeps;
  readonly #access: ChannelAccess;
  /** Open and pending channels. */
  readonly #channels = new Map<number, OpenChannel>();
  readonly #control: TokenBucket;
  /** Channel numbers only grow on a socket: a frame for a closed channel is never taken for a new one. */
  #highest = 0;
  /** A link from another node: channels opened with `openAs`, no per-socket limits of a client's. */
  readonly #link: boolean;
  /** A link's command channels (`openCommandsAs`) are served by this; none: refused. */
  readonly #commands: LinkedCommands | null;

  constructor(socket: SocketConnection, deps: EndpointDeps, access: ChannelAccess, options: { link?: boolean; commands?: LinkedCommands } = {}) {
    this.#socket = socket;
    this.#deps = deps;
    this.#access = access;
    this.#link = options.link ?? false;
    this.#commands = options.commands ?? null;
    this.#control = new TokenBucket({ capacity: 2 * this.#maxChannels + CONTROL_PER_SECOND, refillPerSecond: CONTROL_PER_SECOND });
  }

  get #maxChannels(): number {
    return this.#link ? LINK_MAX_CHANNELS : this.#deps.limits.maxDocsPerConnection;
  }

  /** Documents open on this socket (pending ones included). */
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
    this.#channels.get(frame.channel)?.receive(frame.body);
  }

  /** The socket closed: every channel leaves its room. */
  closed(): void {
    for (const channel of this.#channels.values()) channel.end();
    this.#channels.clear();
  }

  #controlFrame(control: ControlFrame): void {
    const socket = this.#socket;
    // A link carries the opens of every client of another node, each limited there.
    if (!this.#link && !this.#control.take()) {
      this.#deps.logger.warn({ user: socket.user.id, conn: socket.id }, 'sync connection rate limited: channel opens and closes');
      return socket.close('RateLimited', `more than ${this.#control.capacity} channel opens and closes in a burst or ${CONTROL_PER_SECOND} per second`);
    }
    if (control.type === 'open' || control.type === 'openAs' || control.type === 'openCommandsAs') {
      // Every open takes a new channel number: numbers grow and are never reused on a socket.
      if (control.channel <= this.#highest) return socket.close('ProtocolError', `channel ${control.channel} was used before on this socket: channel numbers must grow`);
      this.#highest = control.channel;
    }
    switch (control.type) {
      case 'open':
        if (this.#link) return socket.close('ProtocolError', 'a link between nodes opens channels with openAs');
        return this.#open(control.channel, control.document, socket.user);
      case 'openAs':
      case 'openCommandsAs': {
        if (!this.#link) return socket.close('ProtocolError', `${control.type} is only for links between nodes`);
        // The user the other node authenticated, checked here as any input.
        const user = UserSchema.safeParse({ id: control.userId, name: control.userName });
        if (!user.success) return socket.close('ProtocolError', `${control.type} names no valid user: ${user.error.issues[0]?.message ?? 'invalid'}`);
        return control.type === 'openAs' ? this.#open(control.channel, control.document, user.data) : this.#openCommands(control.channel, user.data);
      }
      case 'close': {
        const open = this.#channels.get(control.channel);
        if (!open) return;
        this.#channels.delete(control.channel);
        open.end();
        return;
      }
      case 'closed':
        return socket.close('ProtocolError', 'only the server sends closed');
    }
  }

  #open(channel: number, document: string, user: AuthUser): void {
    const socket = this.#socket;
    const refuse = (code: number, errorCode: string, reason: string): void => socket.send(encodeControl({ type: 'closed', channel, code, errorCode, reason }));
    if (this.#channels.size >= this.#maxChannels) {
      return refuse(CloseCode.TooManyConnections, 'TooManyConnections', `more than ${this.#maxChannels} documents open on one connection`);
    }
    const feed = this.#deps.feed;
    // The feed is served by the node the device is connected to, never over a link.
    if (document === FEED_DOCUMENT && feed && !this.#link) return this.#openFeed(channel, feed);
    const { limits, maxFrameBytes, router } = this.#deps;
    const pending = new PendingChannel(limits.syncBurst + limits.awarenessBurst, maxFrameBytes + limits.maxBufferedBytes);
    this.#channels.set(channel, pending);
    const decide = async (): Promise<{ refused: { code: number; errorCode: string; reason: string } } | { route: ChannelRoute; joined?: () => void }> => {
      const access = await this.#access(document, user.id);
      if (!access.ok) return { refused: { code: CloseCode[access.close], errorCode: access.close, reason: access.reason } };
      return { route: router ? await router.route(document) : LOCAL, ...(access.joined ? { joined: access.joined } : {}) };
    };
    void decide().then(
      (decision) => {
        // Closed by the client while it was checked, or the socket went: nothing attaches.
        if (this.#channels.get(channel) !== pending) return;
        this.#channels.delete(channel);
        if (socket.closed) return;
        if (pending.overflowed) return refuse(CloseCode.RateLimited, 'RateLimited', `more than ${pending.maxFrames} frames or ${pending.maxBytes} bytes sent before the channel opened`);
        if ('refused' in decision) return refuse(decision.refused.code, decision.refused.errorCode, decision.refused.reason);
        const { route } = decision;
        if (route.kind === 'local') return this.#attach(channel, document, user, pending.frames, decision.joined);
        // A link's channel is served by the owner alone: the node that sent it routes again.
        if (route.kind === 'unavailable' || this.#link) return refuse(CloseCode.OwnerUnavailable, 'OwnerUnavailable', route.kind === 'unavailable' ? route.reason : 'this node does not own the room');
        this.#forward(channel, route, user, pending.frames);
      },
      (err: unknown) => {
        if (this.#channels.get(channel) !== pending) return;
        this.#channels.delete(channel);
        this.#deps.logger.error({ err, room: document, user: user.id }, 'sync channel access check failed');
        refuse(CloseCode.InternalError, 'InternalError', 'internal error');
      },
    );
  }

  /**
   * A bot connection of the other node sends the commands of rooms this node owns on this channel
   * (LinkedCommands, CommandServer): JSON text both ways, served here only, never forwarded again.
   */
  #openCommands(channel: number, user: AuthUser): void {
    const socket = this.#socket;
    const commands = this.#commands;
    if (!commands) return socket.send(encodeControl({ type: 'closed', channel, code: CloseCode.OwnerUnavailable, errorCode: 'OwnerUnavailable', reason: 'this node serves no commands' }));
    this.#relay(channel, (handlers) => commands.openLinked(user, handlers));
  }

  /** The room is owned by another node: the channel's frames go to it unchanged over the link, and its answers come back. */
  #forward(channel: number, route: Extract<ChannelRoute, { kind: 'remote' }>, user: AuthUser, waiting: readonly Uint8Array[]): void {
    const forwarded = this.#relay(channel, (handlers) => route.open(user, handlers));
    for (const body of waiting) forwarded.send(body);
  }

  /**
   * Serves `channel` by relaying it to another party (a forwarded channel's owner, a linked command
   * connection): the channel's frames go to what `open` returns, and what comes back goes out on
   * the channel until either side ends it.
   */
  #relay(channel: number, open: (handlers: ForwardHandlers) => ForwardedChannel): ForwardedChannel {
    const socket = this.#socket;
    const entry: OpenChannel = { peer: null, receive: (body) => other.send(body), end: () => other.close() };
    const other = open({
      frame: (body) => {
        if (this.#channels.get(channel) === entry) socket.send(encodeOnChannel(channel, body));
      },
      closed: (code, errorCode, reason) => {
        if (this.#channels.get(channel) !== entry) return;
        this.#channels.delete(channel);
        socket.send(encodeControl({ type: 'closed', channel, code, errorCode, reason }));
      },
    });
    this.#channels.set(channel, entry);
    return other;
  }

  /** The channel's check passed: its peer joins the room, and the frames that waited go to it in order. */
  #attach(channel: number, document: string, user: AuthUser, waiting: readonly Uint8Array[], joined?: () => void): void {
    const socket = this.#socket;
    const peer = new ChannelPeer(socket, channel, user, (closed) => {
      // The server ended the channel (a refusal, a removal): it leaves its room.
      const open = this.#channels.get(closed.channel);
      if (open?.peer !== closed) return;
      this.#channels.delete(closed.channel);
      open.end();
    });
    let attachment: RoomAttachment;
    try {
      attachment = new RoomAttachment(peer, document, this.#deps, joined);
    } catch (err) {
      // A room that cannot be loaded (a corrupt snapshot, a storage fault) fails this channel only.
      this.#deps.logger.error({ err, room: document, user: user.id }, 'sync channel failed to open');
      return peer.close('InternalError', 'internal error');
    }
    // Closed while it opened (by its room, say): it leaves again at once.
    if (peer.closed) return attachment.detach();
    this.#channels.set(channel, {
      peer,
      receive: (body) => attachment.receive(body),
      end: () => (peer.markClosed(), attachment.detach()),
    });
    // Each may end the channel (a refused update): the rest are then dropped by the attachment.
    for (const body of waiting) attachment.receive(body);
  }

  /** The user feed on this channel (FeedChannel): JSON frames, no room. */
  #openFeed(channel: number, feed: UserFeed): void {
    const socket = this.#socket;
    const open: OpenChannel = {
      peer: null,
      receive: (body) => feedChannel.receive(body),
      end: () => feedChannel.detach(),
    };
    const feedChannel = new FeedChannel(
      feed,
      socket.user.id,
      (bytes) => socket.send(encodeOnChannel(channel, bytes)),
      (reason) => {
        if (this.#channels.get(channel) !== open) return;
        this.#channels.delete(channel);
        feedChannel.detach();
        socket.send(encodeControl({ type: 'closed', channel, code: CloseCode.ProtocolError, errorCode: 'ProtocolError', reason }));
      },
    );
    this.#channels.set(channel, open);
  }
}

const LOCAL: ChannelRoute = { kind: 'local' };

/** A channel on the socket: a room's (with its peer), the feed's, a forwarded one, or one whose check is pending. */
interface OpenChannel {
  readonly peer: ChannelPeer | null;
  receive(body: Uint8Array): void;
  /** The channel is gone (closed by either side, or the socket closed): let go of what it holds. */
  end(): void;
}

/**
 * A channel whose membership check has not answered yet: keeps the frames sent on it, in order,
 * up to the frames the rate limits let through in one burst (more would be rate limited once they
 * reach the room anyway) and a bounded number of bytes (one largest frame plus the send buffer's
 * allowance). A client sending more is refused the channel with RateLimited.
 */
class PendingChannel implements OpenChannel {
  readonly peer = null;
  readonly frames: Uint8Array[] = [];
  readonly maxFrames: number;
  readonly maxBytes: number;
  #bytes = 0;
  overflowed = false;

  constructor(maxFrames: number, maxBytes: number) {
    this.maxFrames = maxFrames;
    this.maxBytes = maxBytes;
  }

  receive(body: Uint8Array): void {
    if (this.overflowed) return;
    this.#bytes += body.byteLength;
    if (this.frames.length >= this.maxFrames || this.#bytes > this.maxBytes) {
      this.overflowed = true;
      this.frames.length = 0;
      return;
    }
    this.frames.push(body);
  }

  /** Closed before its check answered: it holds nothing (the check's answer finds it gone). */
  end(): void {
    this.frames.length = 0;
  }
}
