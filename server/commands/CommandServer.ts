import { parseDocName } from '../../shared/roomDoc/segments.ts';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { RawData, WebSocket } from 'ws';
import type { AuthUser } from '../auth/TokenVerifier.ts';
import { TokenBucket } from '../limits/TokenBucket.ts';
import { AccessGuard } from '../access/AccessGuard.ts';
import { SocketEndpoint, frameBytes, requestUrl } from '../ws/SocketEndpoint.ts';
import type { EndpointDeps } from '../EndpointDeps.ts';
import type { RoomEvent } from '../../shared/commands/roomEvent.ts';
import { CommandConnection } from './CommandConnection.ts';
import type { CommandDeps } from './CommandDeps.ts';
import { commandFailure } from './CommandFailure.ts';
import { executeCommand } from './executeCommand.ts';
import { type ParsedCommand, parseCommandFrame } from './parseCommandFrame.ts';
import { RoomFeeds } from './RoomFeeds.ts';
import { CommandRoutes } from './CommandRoutes.ts';
import { COMMANDS_PATH } from '../../shared/protocol/endpoints.ts';
import { CloseCode } from '../../shared/protocol/closeCodes.ts';
import { SocketConnection } from '../ws/SocketConnection.ts';
import type { ForwardHandlers, ForwardedChannel } from '../sync/ChannelRouter.ts';
import type { LinkedCommands } from '../sync/LinkedCommands.ts';
import type { RequestIdSchema } from '../../shared/commands/webSocketCommand.ts';
import type { z } from 'zod';

type RequestId = z.infer<typeof RequestIdSchema>;

const utf8 = new TextEncoder();

/** Bytes a linked command frame may exceed PARLEY_MAX_FRAME_BYTES by (see openLinked). */
const LINKED_FRAME_MARGIN = 1_024;

/** As the SDK's default: a typing_start clears itself after this long without another. */
export const COMMAND_TYPING_TIMEOUT_MS = 5_000;

/**
 * `maxFrameBytes` is the largest command frame answered; a larger one, up to twice this, is
 * answered with `payload_too_large` and the connection stays; one over twice this is never
 * buffered whole: the socket closes with 1009.
 */
export interface CommandServerOptions extends EndpointDeps {
  /** How long a typing_start lasts without another (COMMAND_TYPING_TIMEOUT_MS). */
  typingTimeoutMs?: number;
}

/**
 * The JSON command endpoint, `ws://HOST:PORT/ws/commands?token=<jwt>`, for clients that do not
 * speak Yjs (docs/commands.md). Every frame gets exactly one answer; recoverable errors never
 * close the connection. Commands change room documents through shared/roomDoc, so Yjs clients see
 * them at once, and joined connections get events derived from every document change.
 */
export class CommandServer implements LinkedCommands {
  readonly #endpoint: SocketEndpoint;
  readonly #opts: CommandServerOptions;
  readonly #deps: CommandDeps;
  /** Membership checks of commands and rechecks (the directory's later state wins). */
  readonly #access: AccessGuard;
  readonly #connections = new Set<CommandConnection>();
  /** Where each connection's commands are served (several nodes). */
  readonly #routes = new Map<CommandConnection, CommandRoutes>();
  readonly #offUnloaded: () => void;
  readonly #offLoaded: () => void;

  constructor(opts: CommandServerOptions) {
    this.#opts = opts;
    this.#endpoint = new SocketEndpoint({
      label: 'command',
      tokens: opts.tokens,
      directory: opts.directory,
      logger: opts.logger,
      maxPayload: 2 * opts.maxFrameBytes,
      slots: opts.slots,
    });
    const nameOf = opts.userName;
    this.#access = new AccessGuard(opts.directory);
    this.#deps = {
      directory: opts.directory,
      access: this.#access,
      recheck: (roomId, userId) => void this.recheckMember(roomId, userId),
      registry: opts.registry,
      feeds: new RoomFeeds(nameOf),
      logger: opts.logger,
      typingTimeoutMs: opts.typingTimeoutMs ?? COMMAND_TYPING_TIMEOUT_MS,
      nameOf,
    };
    // A segment of a joined room loads (paged into, written to, or newly opened): its events follow.
    this.#offLoaded = opts.registry.onLoadedDoc((doc) => {
      const ref = parseDocName(doc.roomId);
      if (ref?.segment === null || !ref) return;
      for (const conn of this.#connections) conn.joined.get(ref.roomId)?.follow(doc);
    });
    // A joined room unloads only when it failed (or at shutdown): its subscribers must join again.
    this.#offUnloaded = opts.registry.onUnloaded((roomId) => {
      this.#deps.feeds.forgetClosed();
      for (const conn of this.#connections) {
        const sub = conn.joined.get(roomId);
        if (!sub || !sub.room.closed) continue;
        this.#unsubscribe(conn, roomId, { code: 'internal', reason: 'the room was dropped from memory after a storage fault; join it again' });
      }
    });
  }

  /** Takes an HTTP upgrade if its path is /ws/commands; returns false otherwise. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const url = requestUrl(req);
    if (url?.pathname !== COMMANDS_PATH) return false;
    // Room access is checked per command: one connection may join many rooms.
    this.#endpoint.upgrade(req, socket, head, { token: url.searchParams.get('token'), check: () => ({ ok: true }), open: (ws, user) => this.#accept(ws, user) });
    return true;
  }

  #accept(ws: WebSocket, user: AuthUser): void {
    const { logger, limits, presence, maxFrameBytes } = this.#opts;
    // JSON clients read close codes only: no error frame before a close.
    const socket: SocketConnection = new SocketConnection(ws, user, false, {
      maxBufferedBytes: limits.maxBufferedBytes,
      onSlowConsumer: (buffered) => logger.warn({ user: user.id, conn: socket.id, buffered }, 'command connection closed: slow consumer'),
    });
    const conn = new CommandConnection(socket, user, socket.id);
    // One bucket for every frame, at the sync endpoint's update rate: a command is one write.
    // Forwarded commands spend it here, at the edge; the owner does not count them again.
    const bucket = new TokenBucket({ capacity: limits.syncBurst, refillPerSecond: limits.syncPerSecond });
    const served = this.#serve(conn, false);
    const releasePresence = presence.connect(user.id);
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (conn.closed) return;
      if (!bucket.take()) {
        const retry = Math.ceil(((1 - bucket.available) * 1000) / limits.syncPerSecond);
        return conn.fail('error', undefined, commandFailure('rate_limited', `more than ${limits.syncBurst} commands in a burst or ${limits.syncPerSecond} per second`, { retry_after_ms: retry }));
      }
      if (isBinary) return conn.fail('error', undefined, commandFailure('invalid_payload', 'binary frames are not part of the command protocol: send JSON text'));
      served.receive(frameBytes(data), maxFrameBytes);
    });
    ws.on('error', (err) => logger.debug({ err, user: user.id }, 'command socket error'));
    ws.on('close', (code: number) => {
      socket.markClosed();
      served.end();
      releasePresence();
      logger.debug({ user: user.id, conn: conn.id, code }, 'command connection closed');
    });
    logger.debug({ user: user.id, conn: conn.id }, 'command connection opened');
  }

  /**
   * A bot connection held by another node, whose commands for rooms this node owns arrive on a
   * channel of that node's link (`openCommandsAs`, docs/scale-out.md, "Routing"). Served as a
   * socket's, with the same frame rules, but: no rate limit and no presence here (the node holding
   * the socket applies the one and holds the other), and a room this node does not own is answered
   * `owner_unavailable`, never forwarded again.
   */
  openLinked(user: AuthUser, edge: ForwardHandlers): ForwardedChannel {
    let closed = false;
    const conn = new CommandConnection(
      {
        get closed() {
          return closed;
        },
        send: (frame) => edge.frame(utf8.encode(frame)),
        close: (name, reason) => {
          if (closed) return;
          closed = true;
          edge.closed(CloseCode[name], name, reason);
          served.end();
        },
      },
      user,
      SocketConnection.nextId(),
    );
    const served = this.#serve(conn, true);
    this.#opts.logger.debug({ user: user.id, conn: conn.id }, 'linked command connection opened');
    return {
      // The edge read the bot's frame under the limit; its re-encoding (defaults, the link's request id) may be a little longer.
      send: (body) => (conn.closed ? undefined : served.receive(body, this.#opts.maxFrameBytes + LINKED_FRAME_MARGIN)),
      close: () => {
        closed = true;
        served.end();
      },
    };
  }

  /** The per-connection part shared by sockets and linked connections: frames parsed, routed, run and answered. */
  #serve(conn: CommandConnection, linked: boolean): { receive(frame: Uint8Array, maxBytes: number): void; end(): void } {
    const { logger, router } = this.#opts;
    const routes = router ? new CommandRoutes({ router, access: this.#access, conn, logger, linked }) : null;
    this.#connections.add(conn);
    if (routes) this.#routes.set(conn, routes);
    const run = (command: ParsedCommand, requestId: RequestId | undefined): void => {
      const roomId = command.payload.room_id;
      void executeCommand(this.#deps, conn, command).then(
        (outcome) => {
          routes?.answered(roomId, outcome.ok ? null : outcome.code);
          return outcome.ok ? conn.answer(command.command, requestId, outcome.data) : conn.fail(command.command, requestId, outcome);
        },
        (err: unknown) => {
          logger.error({ err, user: conn.user.id, command: command.command }, 'command handler failed');
          conn.fail(command.command, requestId, commandFailure('internal', 'internal error'));
        },
      );
    };
    let ended = false;
    return {
      receive: (frame, maxBytes) => {
        const parsed = parseCommandFrame(frame, maxBytes);
        if (!parsed.ok) return conn.fail(parsed.type, parsed.requestId, parsed);
        const { command, requestId } = parsed;
        if (!routes) return run(command, requestId);
        // Routed in the connection's turn, so commands reach this node and the owners in the order they arrived.
        void conn.inTurn(() => routes.take(command, requestId)).then(
          (route) => {
            if (route.kind === 'local') run(command, requestId);
            else if (route.kind === 'refused') conn.fail(command.command, requestId, route.failure);
          },
          (err: unknown) => {
            logger.error({ err, user: conn.user.id, command: command.command }, 'command routing failed');
            conn.fail(command.command, requestId, commandFailure('owner_unavailable', 'the room could not be routed; retry'));
          },
        );
      },
      end: () => {
        if (ended) return;
        ended = true;
        conn.markClosed();
        for (const sub of conn.joined.values()) sub.end();
        conn.joined.clear();
        routes?.end();
        this.#connections.delete(conn);
        this.#routes.delete(conn);
      },
    };
  }

  /** Open sockets of the command endpoint. */
  get connections(): number {
    return this.#endpoint.openSockets;
  }

  /**
   * Unsubscribes the user's connections from a room they may no longer open (removed,
   * deactivated). Never rejects; when two rechecks of one member overlap, the later one decides.
   */
  async recheckMember(roomId: string, userId: string): Promise<void> {
    const joined = (): CommandConnection[] => [...this.#connections].filter((conn) => conn.user.id === userId && conn.joined.has(roomId));
    if (joined().length === 0) {
      // Nobody to unsubscribe; a command being checked now reads the directory again.
      this.#access.roomChanged();
      return;
    }
    let access;
    try {
      access = await this.#access.recheck(roomId, userId);
    } catch (err) {
      this.#opts.logger.error({ err, room: roomId, user: userId }, 'commands: membership recheck failed');
      return;
    }
    if (!access || access.ok) return;
    // The connections joined now (a join_room answered meanwhile included).
    for (const conn of joined()) this.#unsubscribe(conn, roomId, { code: access.code, reason: access.reason });
  }

  /**
   * Another node owns the room now (its lease was taken or its fence refused), before its
   * documents unload here: every connection routes its next command of the room afresh, and those
   * joined to it get `unsubscribed` with `owner_unavailable`, to join again (through the new owner).
   */
  roomMoved(roomId: string): void {
    for (const conn of this.#connections) {
      this.#routes.get(conn)?.answered(roomId, 'owner_unavailable');
      this.#unsubscribe(conn, roomId, { code: 'owner_unavailable', reason: 'the room moved to another node; join it again' });
    }
  }

  /** Unsubscribes everyone from a room that has become inactive. */
  async recheckRoom(roomId: string): Promise<void> {
    this.#access.roomChanged();
    const users = new Set([...this.#connections].filter((c) => c.joined.has(roomId)).map((c) => c.user.id));
    await Promise.all([...users].map((userId) => this.recheckMember(roomId, userId)));
  }

  #unsubscribe(conn: CommandConnection, roomId: string, why: Pick<Extract<RoomEvent, { type: 'unsubscribed' }>['data'], 'code' | 'reason'>): void {
    const sub = conn.joined.get(roomId);
    if (!sub) return;
    sub.end();
    conn.joined.delete(roomId);
    conn.unsubscribed({ room_id: roomId, ...why });
  }

  /** Stops accepting, closes every command connection with 1001 and resolves once all have closed. */
  close(graceMs?: number): Promise<void> {
    this.#offUnloaded();
    this.#offLoaded();
    return this.#endpoint.close(() => {
      for (const conn of this.#connections) conn.close('GoingAway', 'server shutting down');
    }, graceMs);
  }
}
