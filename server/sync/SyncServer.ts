import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket, type RawData } from 'ws';
import type { Logger } from '../log.ts';
import type { Directory } from '../storage/Directory.ts';
import type { TokenService, AuthUser } from '../auth/TokenService.ts';
import type { PresenceTracker } from '../presence/PresenceTracker.ts';
import type { RoomRegistry } from './RoomRegistry.ts';
import { SyncConnection, closeSocket, PARLEY_PROTOCOL_PARAM, PARLEY_PROTOCOL_VERSION } from './SyncConnection.ts';
import { checkRoomAccess } from './checkRoomAccess.ts';
import { heartbeatVerdict } from './heartbeatVerdict.ts';
import { ConnectionSlots } from './ConnectionSlots.ts';
import { FrameRateLimiter } from './FrameRateLimiter.ts';
import type { SyncLimits } from './SyncLimits.ts';
import { ParleyError } from '../../shared/errors/errorCodes.ts';
import { CloseCode, type CloseCodeName } from '../../shared/errors/closeCodes.ts';

export const SYNC_PATH_PREFIX = '/sync/';
/** A connection that answers no ping within this interval is dropped. */
const HEARTBEAT_MS = 30_000;

export interface SyncServerOptions {
  tokens: TokenService;
  directory: Directory;
  registry: RoomRegistry;
  presence: PresenceTracker;
  logger: Logger;
  maxFrameBytes: number;
  limits: SyncLimits;
}

/** A malformed percent-encoding yields a string that is no room id (refused as 4404). */
const safeDecode = (s: string): string => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
};

const toBytes = (data: RawData): Uint8Array => {
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data));
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
};

/**
 * The y-websocket endpoint: `ws://HOST:PORT/sync/<roomId>?token=<jwt>`. Authentication and
 * membership are checked before the socket joins the room; a refused socket is accepted and
 * closed at once with a documented close code (a browser cannot read an HTTP status from a
 * failed upgrade, but it can read a close code).
 */
export class SyncServer {
  readonly #wss: WebSocketServer;
  readonly #opts: SyncServerOptions;
  readonly #alive = new WeakSet<WebSocket>();
  /** Each socket's unsent bytes at the last ping (see heartbeatVerdict). */
  readonly #bufferedAtPing = new WeakMap<WebSocket, number>();
  readonly #heartbeat: NodeJS.Timeout;
  readonly #slots: ConnectionSlots;
  #accepting = true;

  constructor(opts: SyncServerOptions) {
    this.#opts = opts;
    this.#wss = new WebSocketServer({ noServer: true, maxPayload: opts.maxFrameBytes });
    this.#slots = new ConnectionSlots(opts.limits.maxConnectionsPerUser);
    this.#heartbeat = setInterval(() => this.#pingAll(), HEARTBEAT_MS);
    this.#heartbeat.unref();
  }

  /** Takes an HTTP upgrade if its path is /sync/...; returns false otherwise. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      return false;
    }
    if (!url.pathname.startsWith(SYNC_PATH_PREFIX)) return false;
    const roomId = safeDecode(url.pathname.slice(SYNC_PATH_PREFIX.length));
    const parley = url.searchParams.get(PARLEY_PROTOCOL_PARAM) === PARLEY_PROTOCOL_VERSION;
    void this.#authorize(url.searchParams.get('token'), roomId).then((decision) => {
      if (socket.destroyed) return;
      this.#wss.handleUpgrade(req, socket, head, (ws) => {
        if (!this.#accepting) return ws.close(CloseCode.GoingAway, 'server shutting down');
        if (!decision.ok) {
          this.#opts.logger.info({ close: decision.close, reason: decision.reason }, 'sync connection refused');
          return closeSocket(ws, decision.close, decision.reason, parley);
        }
        // Counted from here to the socket's close event, whatever happens in between (a room that
        // fails to load, a close from either side), so the count stays exact.
        const releaseSlot = this.#slots.acquire(decision.user.id);
        if (!releaseSlot) {
          const { maxConnectionsPerUser } = this.#opts.limits;
          this.#opts.logger.warn({ room: roomId, user: decision.user.id, max: maxConnectionsPerUser }, 'sync connection over the per-user cap');
          return closeSocket(ws, 'TooManyConnections', `more than ${maxConnectionsPerUser} open connections for this user`, parley);
        }
        ws.once('close', () => {
          releaseSlot();
          this.#opts.logger.debug({ room: roomId, user: decision.user.id, open: this.#slots.count(decision.user.id) }, 'sync connection slot released');
        });
        try {
          this.#accept(ws, decision.user, roomId, parley);
        } catch (err) {
          // A room that cannot be loaded (a corrupt snapshot, a storage fault) fails this socket only.
          this.#opts.logger.error({ err, room: roomId, user: decision.user.id }, 'sync connection failed to open');
          closeSocket(ws, 'InternalError', 'internal error', parley);
        }
      });
    });
    return true;
  }

  /** Never rejects: a fault while checking (storage, say) refuses the socket with 1011. */
  async #authorize(
    token: string | null,
    roomId: string,
  ): Promise<{ ok: true; user: AuthUser } | { ok: false; close: CloseCodeName; reason: string }> {
    try {
      const user = await this.#opts.tokens.verify(token);
      const access = checkRoomAccess(this.#opts.directory, roomId, user.id);
      if (!access.ok) return access;
      this.#opts.directory.users.upsert(user);
      return { ok: true, user };
    } catch (err) {
      if (err instanceof ParleyError) return { ok: false, close: 'Unauthorized', reason: err.message };
      this.#opts.logger.error({ err, room: roomId }, 'sync authorization failed');
      return { ok: false, close: 'InternalError', reason: 'internal error' };
    }
  }

  #accept(ws: WebSocket, user: AuthUser, roomId: string, parley: boolean): void {
    const { registry, presence, logger, limits } = this.#opts;
    const conn: SyncConnection = new SyncConnection(ws, user, roomId, parley, {
      maxBufferedBytes: limits.maxBufferedBytes,
      onSlowConsumer: (buffered) =>
        logger.warn({ room: roomId, user: user.id, conn: conn.id, buffered, max: limits.maxBufferedBytes }, 'sync connection closed: slow consumer'),
    });
    const rate = new FrameRateLimiter(limits);
    const room = registry.open(roomId);
    const releasePresence = presence.connect(user.id);
    this.#alive.add(ws);
    ws.on('pong', () => this.#alive.add(ws));
    ws.on('message', (data: RawData, isBinary: boolean) => {
      // Frames that were already in flight when the server decided to close are dropped unread.
      if (conn.closed) return;
      if (!isBinary) return conn.close('ProtocolError', 'text frames are not part of the sync protocol');
      const frame = toBytes(data);
      const exhausted = rate.admit(frame);
      if (exhausted) {
        const [burst, perSecond] = exhausted === 'sync' ? [limits.syncBurst, limits.syncPerSecond] : [limits.awarenessBurst, limits.awarenessPerSecond];
        logger.warn({ room: roomId, user: user.id, conn: conn.id, frames: exhausted, burst, perSecond }, 'sync connection rate limited');
        return conn.close('RateLimited', `more than ${burst} ${exhausted} frames in a burst or ${perSecond} per second`);
      }
      try {
        room.receive(conn, frame);
      } catch (err) {
        logger.error({ err, room: roomId, user: user.id }, 'sync frame handler failed');
        conn.close('InternalError', 'internal error');
      }
    });
    ws.on('error', (err) => logger.debug({ err, room: roomId, user: user.id }, 'sync socket error'));
    ws.on('close', (code: number) => {
      conn.markClosed();
      room.leave(conn);
      registry.released(room);
      releasePresence();
      logger.debug({ room: roomId, user: user.id, code }, 'sync connection closed');
    });
    room.join(conn);
    logger.debug({ room: roomId, user: user.id, conn: conn.id }, 'sync connection opened');
  }

  /** Closes the user's connections to a room they may no longer open (removed, deactivated). */
  recheckMember(roomId: string, userId: string): void {
    const room = this.#opts.registry.get(roomId);
    if (!room) return;
    for (const conn of [...room.connections]) {
      if (conn.user.id !== userId) continue;
      const access = checkRoomAccess(this.#opts.directory, roomId, userId);
      if (!access.ok) conn.close(access.close, access.reason);
    }
  }

  /** Closes every connection to a room that has become inactive. */
  recheckRoom(roomId: string): void {
    const room = this.#opts.registry.get(roomId);
    if (!room) return;
    for (const userId of new Set([...room.connections].map((c) => c.user.id))) this.recheckMember(roomId, userId);
  }

  /**
   * Stops accepting and closes every sync connection with 1001 Going Away. Resolves once every
   * socket has closed (and so every connection's close handling, such as recording last-seen,
   * has run); sockets that do not finish the closing handshake within `graceMs` are terminated.
   */
  async close(graceMs = 2000): Promise<void> {
    this.#accepting = false;
    clearInterval(this.#heartbeat);
    const sockets = [...this.#wss.clients];
    const allClosed = Promise.all(
      sockets.map((ws) => (ws.readyState === ws.CLOSED ? null : new Promise((resolve) => ws.once('close', resolve)))),
    );
    for (const room of this.#opts.registry.loaded()) {
      for (const conn of [...room.connections]) conn.close('GoingAway', 'server shutting down');
    }
    const timer = setTimeout(() => sockets.forEach((ws) => ws.terminate()), graceMs);
    await allClosed;
    clearTimeout(timer);
    this.#wss.close();
  }

  #pingAll(): void {
    for (const ws of this.#wss.clients) {
      const buffered = ws.bufferedAmount;
      const verdict = heartbeatVerdict(this.#alive.has(ws), buffered, this.#bufferedAtPing.get(ws));
      if (verdict === 'terminate') {
        ws.terminate();
        continue;
      }
      this.#bufferedAtPing.set(ws, buffered);
      this.#alive.delete(ws);
      ws.ping();
    }
  }
}
