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
import { parseCommandFrame } from './parseCommandFrame.ts';
import { RoomFeeds } from './RoomFeeds.ts';
import { COMMANDS_PATH } from '../../shared/protocol/endpoints.ts';

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
export class CommandServer {
  readonly #endpoint: SocketEndpoint;
  readonly #opts: CommandServerOptions;
  readonly #deps: CommandDeps;
  /** Membership checks of commands and rechecks (the directory's later state wins). */
  readonly #access: AccessGuard;
  readonly #connections = new Set<CommandConnection>();
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
    const conn: CommandConnection = new CommandConnection(ws, user, {
      maxBufferedBytes: limits.maxBufferedBytes,
      onSlowConsumer: (buffered) => logger.warn({ user: user.id, conn: conn.id, buffered }, 'command connection closed: slow consumer'),
    });
    // One bucket for every frame, at the sync endpoint's update rate: a command is one write.
    const bucket = new TokenBucket({ capacity: limits.syncBurst, refillPerSecond: limits.syncPerSecond });
    this.#connections.add(conn);
    const releasePresence = presence.connect(user.id);
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (conn.closed) return;
      if (!bucket.take()) {
        const retry = Math.ceil(((1 - bucket.available) * 1000) / limits.syncPerSecond);
        return conn.fail('error', undefined, commandFailure('rate_limited', `more than ${limits.syncBurst} commands in a burst or ${limits.syncPerSecond} per second`, { retry_after_ms: retry }));
      }
      if (isBinary) return conn.fail('error', undefined, commandFailure('invalid_payload', 'binary frames are not part of the command protocol: send JSON text'));
      const parsed = parseCommandFrame(frameBytes(data), maxFrameBytes);
      if (!parsed.ok) return conn.fail(parsed.type, parsed.requestId, parsed);
      const { command, requestId } = parsed;
      void executeCommand(this.#deps, conn, command).then(
        (outcome) => (outcome.ok ? conn.answer(command.command, requestId, outcome.data) : conn.fail(command.command, requestId, outcome)),
        (err: unknown) => {
          logger.error({ err, user: user.id, command: command.command }, 'command handler failed');
          conn.fail(command.command, requestId, commandFailure('internal', 'internal error'));
        },
      );
    });
    ws.on('error', (err) => logger.debug({ err, user: user.id }, 'command socket error'));
    ws.on('close', (code: number) => {
      conn.markClosed();
      for (const sub of conn.joined.values()) sub.end();
      conn.joined.clear();
      this.#connections.delete(conn);
      releasePresence();
      logger.debug({ user: user.id, conn: conn.id, code }, 'command connection closed');
    });
    logger.debug({ user: user.id, conn: conn.id }, 'command connection opened');
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
    conn.send(JSON.stringify({ type: 'unsubscribed', success: true, error: null, data: { room_id: roomId, ...why } }));
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
