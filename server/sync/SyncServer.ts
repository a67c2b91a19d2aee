import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket, type RawData } from 'ws';
import type { AuthUser } from '../auth/TokenVerifier.ts';
import { SyncConnection } from './SyncConnection.ts';
import { MuxConnection } from './MuxConnection.ts';
import { RoomAttachment } from './RoomAttachment.ts';
import { SocketConnection } from '../ws/SocketConnection.ts';
import { MUX_SYNC_PATH, PARLEY_PROTOCOL_PARAM, PARLEY_PROTOCOL_VERSION, SYNC_PATH_PREFIX } from '../../shared/protocol/endpoints.ts';
import { AccessGuard } from '../access/AccessGuard.ts';
import { bearerMatcher } from '../auth/bearerToken.ts';
import { Heartbeat } from '../ws/Heartbeat.ts';
import { SocketEndpoint, frameBytes, requestUrl } from '../ws/SocketEndpoint.ts';
import type { EndpointDeps } from '../EndpointDeps.ts';
import type { RoomPeer } from './RoomPeer.ts';
import type { ChannelRoute } from './ChannelRouter.ts';
import type { LinkedCommands } from './LinkedCommands.ts';
import { closeCodeName } from '../../shared/protocol/closeCodes.ts';
import { roomOfDoc } from '../../shared/roomDoc/segments.ts';
import type { AccessDecision } from '../access/checkRoomAccess.ts';
import { frameMessageType } from '../../shared/protocol/frames.ts';
import { MessageType } from '../../shared/protocol/messageTypes.ts';
import { INTERNAL_LINK_PATH } from '../../shared/protocol/endpoints.ts';

export interface SyncServerOptions extends EndpointDeps {
  /**
   * Several nodes: the cluster secret the other nodes' links present on /ws/internal
   * (`Authorization: Bearer`); none: that path is not served.
   */
  internalSecret?: string;
  /** Several nodes: serves the command channels other nodes open on the link (CommandServer). */
  linkedCommands?: LinkedCommands;
}

/** Bytes a link to another node may leave unsent before it counts as stalled (many clients' frames share it). */
const LINK_MAX_BUFFERED = 64 * 1024 * 1024;
/** What a frame on a link may carry beyond a client's own limit: the mux header, a re-encoded command's additions. */
const LINK_FRAME_OVERHEAD = 2 * 1024;
/** A link that answers no ping within this interval is dropped: its channels' clients reopen them. */
const LINK_HEARTBEAT_MS = 10_000;

/** A malformed percent-encoding yields a string that is no room id (refused as 4404). */
const safeDecode = (s: string): string => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
};

/**
 * The sync endpoints: the y-websocket one, `ws://HOST:PORT/sync/<roomId>?token=<jwt>` (one room per
 * socket; authentication and membership are checked before the socket joins the room), and the
 * multiplexed one, `ws://HOST:PORT/ws/sync?token=<jwt>` (one socket per device, membership checked
 * per channel: MuxConnection). Both put each peer in its room through a RoomAttachment.
 */
export class SyncServer {
  readonly #endpoint: SocketEndpoint;
  readonly #opts: SyncServerOptions;
  /** Membership checks of admissions, channel opens and rechecks (the directory's later state wins). */
  readonly #access: AccessGuard;
  /** The multiplexed sockets open now (closed with the server). */
  readonly #muxes = new Set<SocketConnection>();
  /** Links from other nodes (/ws/internal), with their own heartbeat. */
  readonly #links = new Set<SocketConnection>();
  readonly #linkServer: WebSocketServer;
  /** The links' heartbeat: alive while they answer pings or send anything. */
  readonly #linkHeartbeat: Heartbeat;
  /** Checks a link's cluster secret; null: /ws/internal is not served (one node). */
  readonly #linkSecret: ((header: string | undefined) => boolean) | null;

  constructor(opts: SyncServerOptions) {
    this.#opts = opts;
    this.#access = new AccessGuard(opts.directory);
    this.#linkSecret = opts.internalSecret === undefined ? null : bearerMatcher(opts.internalSecret);
    // A link carries clients' frames (at most maxFrameBytes each) and bots' commands (at most
    // maxFrameBytes plus CommandServer's LINKED_FRAME_MARGIN once the edge re-encodes them) inside a
    // mux header. Twice the frame limit is generous on purpose: a frame too big for the link closes
    // every channel on it, so the bound only guards against a link gone wrong.
    this.#linkServer = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 2 * opts.maxFrameBytes + LINK_FRAME_OVERHEAD });
    this.#endpoint = new SocketEndpoint({
      label: 'sync',
      tokens: opts.tokens,
      directory: opts.directory,
      logger: opts.logger,
      maxPayload: opts.maxFrameBytes,
      slots: opts.slots,
    });
    // As client sockets are judged (heartbeatVerdict): a link that is still draining, or a
    // heartbeat that comes late after this node's event loop stalled, is kept.
    this.#linkHeartbeat = new Heartbeat(() => [...this.#links].map((link) => link.ws), LINK_HEARTBEAT_MS);
  }

  /** Takes an HTTP upgrade if its path is /sync/... or /ws/sync; returns false otherwise. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const url = requestUrl(req);
    const linkSecret = this.#linkSecret;
    if (url?.pathname === INTERNAL_LINK_PATH && linkSecret) {
      if (!linkSecret(req.headers.authorization)) {
        this.#opts.logger.warn({ from: req.socket.remoteAddress }, 'internal link refused: wrong cluster secret');
        socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return true;
      }
      this.#linkServer.handleUpgrade(req, socket, head, (ws) => this.#acceptLink(ws));
      return true;
    }
    if (url?.pathname === MUX_SYNC_PATH) {
      this.#endpoint.upgrade(req, socket, head, {
        token: url.searchParams.get('token'),
        check: () => ({ ok: true }),
        open: (ws, user) => this.#acceptMux(ws, user),
      });
      return true;
    }
    if (!url?.pathname.startsWith(SYNC_PATH_PREFIX)) return false;
    const roomId = safeDecode(url.pathname.slice(SYNC_PATH_PREFIX.length));
    const parley = url.searchParams.get(PARLEY_PROTOCOL_PARAM) === PARLEY_PROTOCOL_VERSION;
    // Several nodes: where the room is served, decided once the user may open it.
    let route: ChannelRoute = { kind: 'local' };
    let joined: (() => void) | undefined;
    this.#endpoint.upgrade(req, socket, head, {
      token: url.searchParams.get('token'),
      check: async (user) => {
        const access = await this.#checkOpen(roomId, user.id);
        joined = access.joined;
        if (!access.ok || !this.#opts.router) return access;
        route = await this.#opts.router.route(roomId);
        return route.kind === 'unavailable' ? { ok: false, close: 'OwnerUnavailable', reason: route.reason } : access;
      },
      open: (ws, user) => {
        if (route.kind === 'remote') return this.#acceptForwarded(ws, user, roomId, parley, route);
        this.#accept(ws, user, roomId, parley, joined);
      },
      withError: parley,
      logFields: { room: roomId },
    });
    return true;
  }

  /** A /sync/<roomId> socket of a room this node serves: its peer joins the room (RoomAttachment). */
  #accept(ws: WebSocket, user: AuthUser, roomId: string, parley: boolean, joined?: () => void): void {
    this.#serve(ws, user, roomId, parley, (conn) => {
      const attachment = new RoomAttachment(conn, roomId, this.#opts, joined);
      return { receive: (bytes) => attachment.receive(bytes), end: () => attachment.detach() };
    });
  }

  /**
   * A /sync/<roomId> socket whose room another node owns: its frames go to the owner over the link
   * unchanged, and the owner's come back. The owner speaks Parley's additions on the link; a stock
   * client (no `?parley=1`) gets the frames a stock client gets from a local room, without them.
   */
  #acceptForwarded(ws: WebSocket, user: AuthUser, roomId: string, parley: boolean, route: Extract<ChannelRoute, { kind: 'remote' }>): void {
    this.#serve(ws, user, roomId, parley, (conn) => {
      const forwarded = route.open(user, {
        frame: (body) => {
          // Only a stock client's frames are looked at: the Parley client takes every one.
          if (!parley && (frameMessageType(body) ?? -1) >= MessageType.Ack) return;
          conn.send(body);
        },
        closed: (code, errorCode, reason) => conn.close(closeCodeName(code), reason, errorCode),
      });
      this.#opts.logger.debug({ room: roomId, user: user.id, owner: route.owner }, 'sync connection forwarded');
      return { receive: (bytes) => forwarded.send(bytes), end: () => forwarded.close() };
    });
  }

  /** One /sync/<roomId> socket: its frames go to what `target` makes of it, until it closes. */
  #serve(ws: WebSocket, user: AuthUser, roomId: string, parley: boolean, target: (conn: SyncConnection) => { receive(bytes: Uint8Array): void; end(): void }): void {
    const { presence, logger, limits } = this.#opts;
    const conn: SyncConnection = new SyncConnection(ws, user, roomId, parley, {
      maxBufferedBytes: limits.maxBufferedBytes,
      onSlowConsumer: (buffered) =>
        logger.warn({ room: roomId, user: user.id, conn: conn.id, buffered, max: limits.maxBufferedBytes }, 'sync connection closed: slow consumer'),
    });
    const releasePresence = presence.connect(user.id);
    const served = target(conn);
    ws.on('message', (data: RawData, isBinary: boolean) => {
      // Frames that were already in flight when the server decided to close are dropped unread.
      if (conn.closed) return;
      if (!isBinary) return conn.close('ProtocolError', 'text frames are not part of the sync protocol');
      served.receive(frameBytes(data));
    });
    ws.on('error', (err) => logger.debug({ err, room: roomId, user: user.id }, 'sync socket error'));
    ws.on('close', (code: number) => {
      conn.markClosed();
      served.end();
      releasePresence();
      logger.debug({ room: roomId, user: user.id, code }, 'sync connection closed');
    });
  }

  /** A link from another node (/ws/internal): a multiplexed connection whose channels are opened as that node's users (openAs). */
  #acceptLink(ws: WebSocket): void {
    const { logger } = this.#opts;
    // The link's own identity is no user's: each channel carries its user.
    const socket = new SocketConnection(ws, { id: 'parley-node', name: 'Parley node' }, false, {
      maxBufferedBytes: LINK_MAX_BUFFERED,
      allowLargestFrame: true,
      onSlowConsumer: (buffered) => logger.warn({ buffered }, 'internal link closed: the other node reads too slowly'),
    });
    const mux = new MuxConnection(socket, this.#opts, (document, userId) => this.#checkOpen(document, userId), {
      link: true,
      ...(this.#opts.linkedCommands ? { commands: this.#opts.linkedCommands } : {}),
    });
    this.#links.add(socket);
    this.#linkHeartbeat.watch(ws);
    ws.on('message', (data: RawData, isBinary: boolean) => {
      this.#linkHeartbeat.alive(ws);
      mux.receive(data, isBinary);
    });
    ws.on('error', (err) => logger.debug({ err }, 'internal link error'));
    ws.on('close', () => {
      socket.markClosed();
      this.#links.delete(socket);
      mux.closed();
      logger.info('internal link closed');
    });
    logger.info('internal link opened');
  }

  /** A multiplexed socket (/ws/sync): one per device, a channel per document (MuxConnection). */
  #acceptMux(ws: WebSocket, user: AuthUser): void {
    const { presence, logger, limits } = this.#opts;
    const socket: SocketConnection = new SocketConnection(ws, user, false, {
      maxBufferedBytes: limits.maxBufferedBytes,
      allowLargestFrame: true,
      onSlowConsumer: (buffered) => logger.warn({ user: user.id, conn: socket.id, buffered, max: limits.maxBufferedBytes }, 'sync connection closed: slow consumer'),
    });
    const mux = new MuxConnection(socket, this.#opts, (document, userId) => this.#checkOpen(document, userId));
    const releasePresence = presence.connect(user.id);
    this.#muxes.add(socket);
    ws.on('message', (data: RawData, isBinary: boolean) => mux.receive(data, isBinary));
    ws.on('error', (err) => logger.debug({ err, user: user.id }, 'sync socket error'));
    ws.on('close', (code: number) => {
      socket.markClosed();
      this.#muxes.delete(socket);
      mux.closed();
      releasePresence();
      logger.debug({ user: user.id, code }, 'multiplexed sync connection closed');
    });
    logger.debug({ user: user.id, conn: socket.id }, 'multiplexed sync connection opened');
  }

  /** Open sockets of both sync endpoints (per room and multiplexed). */
  get connections(): number {
    return this.#endpoint.openSockets;
  }

  /**
   * The membership check of an open (a socket, a channel); when allowed, `joined` is to be called
   * once the peer is where a recheck finds it: a recheck that began after this check answered
   * (a member removed meanwhile) could not see it, so the member is rechecked then.
   */
  async #checkOpen(document: string, userId: string): Promise<AccessDecision & { readonly joined?: () => void }> {
    const access = await this.#access.check(document, userId);
    if (!access.ok) return access;
    const checkedAt = this.#access.rechecks;
    return {
      ...access,
      joined: () => {
        if (this.#access.rechecks !== checkedAt) void this.recheckMember(roomOfDoc(document), userId);
      },
    };
  }

  /**
   * Closes the user's connections to a room's documents they may no longer open (removed,
   * deactivated). Never rejects; when two rechecks of one member overlap, the later one decides.
   */
  async recheckMember(roomId: string, userId: string): Promise<void> {
    let access;
    try {
      access = await this.#access.recheck(roomId, userId);
    } catch (err) {
      this.#opts.logger.error({ err, room: roomId, user: userId }, 'sync: membership recheck failed');
      return;
    }
    if (!access || access.ok) return;
    // The peers attached now: an open still being checked reads the directory again (AccessGuard).
    for (const conn of this.#peersOf(roomId)) if (conn.user.id === userId) conn.close(access.close, access.reason);
  }

  /** Closes every connection to a room that has become inactive. */
  async recheckRoom(roomId: string): Promise<void> {
    this.#access.roomChanged();
    const users = new Set(this.#peersOf(roomId).map((conn) => conn.user.id));
    await Promise.all([...users].map((userId) => this.recheckMember(roomId, userId)));
  }

  /** Every peer of a room's documents: those joined to a loaded one, and those reading a segment from storage. */
  #peersOf(roomId: string): RoomPeer[] {
    const peers = [...this.#opts.registry.docsOf(roomId)].flatMap((room) => [...room.peers()]);
    return peers.concat([...(this.#opts.storedSegments?.peersOf(roomId) ?? [])]);
  }

  /** Stops accepting, closes every sync connection with 1001 and resolves once all have closed. */
  close(graceMs?: number): Promise<void> {
    return this.#endpoint.close(() => {
      for (const room of this.#opts.registry.loaded()) {
        for (const conn of [...room.peers()]) conn.close('GoingAway', 'server shutting down');
      }
      for (const conn of [...(this.#opts.storedSegments?.peers() ?? [])]) conn.close('GoingAway', 'server shutting down');
      for (const socket of this.#muxes) socket.close('GoingAway', 'server shutting down');
      this.#linkHeartbeat.stop();
      for (const link of this.#links) link.close('GoingAway', 'node stopping');
    }, graceMs);
  }
}
