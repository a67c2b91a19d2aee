import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocket, RawData } from 'ws';
import type { AuthUser } from '../auth/TokenVerifier.ts';
import { SyncConnection } from './SyncConnection.ts';
import type { Room } from './Room.ts';
import { PARLEY_PROTOCOL_PARAM, PARLEY_PROTOCOL_VERSION, SYNC_PATH_PREFIX } from '../../shared/protocol/endpoints.ts';
import { checkRoomAccess } from '../access/checkRoomAccess.ts';
import { FrameRateLimiter } from '../limits/FrameRateLimiter.ts';
import { SocketEndpoint, frameBytes, requestUrl } from '../ws/SocketEndpoint.ts';
import type { EndpointDeps } from '../EndpointDeps.ts';

export type SyncServerOptions = EndpointDeps;

/** A malformed percent-encoding yields a string that is no room id (refused as 4404). */
const safeDecode = (s: string): string => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
};

/**
 * The y-websocket endpoint: `ws://HOST:PORT/sync/<roomId>?token=<jwt>`. Authentication and
 * membership are checked before the socket joins the room (SocketEndpoint).
 */
export class SyncServer {
  readonly #endpoint: SocketEndpoint;
  readonly #opts: SyncServerOptions;

  constructor(opts: SyncServerOptions) {
    this.#opts = opts;
    this.#endpoint = new SocketEndpoint({
      label: 'sync',
      tokens: opts.tokens,
      directory: opts.directory,
      logger: opts.logger,
      maxPayload: opts.maxFrameBytes,
      slots: opts.slots,
    });
  }

  /** Takes an HTTP upgrade if its path is /sync/...; returns false otherwise. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const url = requestUrl(req);
    if (!url?.pathname.startsWith(SYNC_PATH_PREFIX)) return false;
    const roomId = safeDecode(url.pathname.slice(SYNC_PATH_PREFIX.length));
    const parley = url.searchParams.get(PARLEY_PROTOCOL_PARAM) === PARLEY_PROTOCOL_VERSION;
    this.#endpoint.upgrade(req, socket, head, {
      token: url.searchParams.get('token'),
      check: (user) => checkRoomAccess(this.#opts.directory, roomId, user.id),
      open: (ws, user) => this.#accept(ws, user, roomId, parley),
      withError: parley,
      logFields: { room: roomId },
    });
    return true;
  }

  #accept(ws: WebSocket, user: AuthUser, roomId: string, parley: boolean): void {
    const { registry, presence, logger, limits } = this.#opts;
    const conn: SyncConnection = new SyncConnection(ws, user, roomId, parley, {
      maxBufferedBytes: limits.maxBufferedBytes,
      onSlowConsumer: (buffered) =>
        logger.warn({ room: roomId, user: user.id, conn: conn.id, buffered, max: limits.maxBufferedBytes }, 'sync connection closed: slow consumer'),
    });
    const rate = new FrameRateLimiter(limits);
    // A big room loads in slices (RoomRegistry.openReady): until it is ready, frames wait here in order.
    const opening = registry.openReady(roomId);
    let room: Room | null = opening instanceof Promise ? null : opening;
    const waiting: Uint8Array[] = [];
    const releasePresence = presence.connect(user.id);
    const handle = (frame: Uint8Array): void => {
      if (!room) return void waiting.push(frame);
      try {
        room.receive(conn, frame);
      } catch (err) {
        logger.error({ err, room: roomId, user: user.id }, 'sync frame handler failed');
        conn.close('InternalError', 'internal error');
      }
    };
    ws.on('message', (data: RawData, isBinary: boolean) => {
      // Frames that were already in flight when the server decided to close are dropped unread.
      if (conn.closed) return;
      if (!isBinary) return conn.close('ProtocolError', 'text frames are not part of the sync protocol');
      const frame = frameBytes(data);
      const exhausted = rate.admit(frame);
      if (exhausted) {
        const [burst, perSecond] = exhausted === 'sync' ? [limits.syncBurst, limits.syncPerSecond] : [limits.awarenessBurst, limits.awarenessPerSecond];
        logger.warn({ room: roomId, user: user.id, conn: conn.id, frames: exhausted, burst, perSecond }, 'sync connection rate limited');
        return conn.close('RateLimited', `more than ${burst} ${exhausted} frames in a burst or ${perSecond} per second`);
      }
      handle(frame);
    });
    ws.on('error', (err) => logger.debug({ err, room: roomId, user: user.id }, 'sync socket error'));
    ws.on('close', (code: number) => {
      conn.markClosed();
      if (room) {
        room.leave(conn);
        registry.released(room);
      }
      releasePresence();
      logger.debug({ room: roomId, user: user.id, code }, 'sync connection closed');
    });
    const join = (ready: Room): void => {
      room = ready;
      if (conn.closed) {
        // Gone while the room loaded: it never joined, but the room may now idle out.
        registry.released(ready);
        return;
      }
      ready.join(conn);
      logger.debug({ room: roomId, user: user.id, conn: conn.id }, 'sync connection opened');
      for (const frame of waiting.splice(0)) handle(frame);
    };
    if (room) join(room);
    else
      void (opening as Promise<Room>).then(join, (err: unknown) => {
        logger.error({ err, room: roomId, user: user.id }, 'room failed to load');
        conn.close('InternalError', 'internal error');
      });
  }

  /** Closes the user's connections to a room they may no longer open (removed, deactivated). */
  recheckMember(roomId: string, userId: string): void {
    const room = this.#opts.registry.get(roomId);
    if (!room) return;
    for (const conn of [...room.peers()]) {
      if (conn.user.id !== userId) continue;
      const access = checkRoomAccess(this.#opts.directory, roomId, userId);
      if (!access.ok) conn.close(access.close, access.reason);
    }
  }

  /** Closes every connection to a room that has become inactive. */
  recheckRoom(roomId: string): void {
    const room = this.#opts.registry.get(roomId);
    if (!room) return;
    for (const userId of new Set([...room.peers()].map((c) => c.user.id))) this.recheckMember(roomId, userId);
  }

  /** Stops accepting, closes every sync connection with 1001 and resolves once all have closed. */
  close(graceMs?: number): Promise<void> {
    return this.#endpoint.close(() => {
      for (const room of this.#opts.registry.loaded()) {
        for (const conn of [...room.peers()]) conn.close('GoingAway', 'server shutting down');
      }
    }, graceMs);
  }
}
