import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { AuthUser, TokenVerifier } from '../auth/TokenVerifier.ts';
import type { Logger } from '../log.ts';
import type { DirectoryApi } from '../storage/DirectoryApi.ts';
import type { ConnectionSlots } from './ConnectionSlots.ts';
import { Heartbeat } from './Heartbeat.ts';
import { closeSocket } from './closeSocket.ts';
import { ParleyError } from '../../shared/errors/errorCodes.ts';
import { CloseCode, type CloseCodeName } from '../../shared/protocol/closeCodes.ts';

/** A connection that answers no ping within this interval (and reads nothing) is dropped. */
const HEARTBEAT_MS = 30_000;

type Refusal = { ok: false; close: CloseCodeName; reason: string };
/** Whether a socket may open: the authenticated user, or the close code and reason it gets. */
export type Admission = { ok: true; user: AuthUser } | Refusal;
/** What an endpoint checks after the token (room access, say); may read the directory. */
export type AdmissionCheck = (user: AuthUser) => { ok: true } | Refusal | Promise<{ ok: true } | Refusal>;

export interface UpgradeHow {
  /** The `token` query parameter. */
  token: string | null;
  check: AdmissionCheck;
  /** Takes the admitted socket (which already holds a slot and answers the heartbeat). */
  open: (ws: WebSocket, user: AuthUser) => void;
  /** The client reads Parley's error message before the close (sync `?parley=1`). */
  withError?: boolean;
  /** Added to every log line about this socket (its room, say). */
  logFields?: Record<string, unknown>;
}

export interface SocketEndpointOptions {
  /** Names the endpoint in log lines ("sync", "command"). */
  label: string;
  tokens: TokenVerifier;
  directory: DirectoryApi;
  logger: Logger;
  /** ws's maxPayload: a larger frame closes the socket with 1009 before it is buffered whole. */
  maxPayload: number;
  /** Shared by every endpoint: one cap per user. */
  slots: ConnectionSlots;
}

/** The upgrade's URL, or null when the request line holds none that parses. */
export function requestUrl(req: IncomingMessage): URL | null {
  try {
    return new URL(req.url ?? '/', 'http://localhost');
  } catch {
    return null;
  }
}

export const frameBytes = (data: RawData): Uint8Array => {
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data));
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
};

/**
 * What the sync and command endpoints share: authenticating an upgrade, the per-user connection
 * cap, the heartbeat, and closing every socket at shutdown. A refused socket is accepted and then
 * closed with a documented code, because a browser cannot read the status of a failed upgrade
 * but can read a close code.
 */
export class SocketEndpoint {
  readonly #wss: WebSocketServer;
  readonly #opts: SocketEndpointOptions;
  readonly #heartbeat: Heartbeat;
  #accepting = true;

  constructor(opts: SocketEndpointOptions) {
    this.#opts = opts;
    this.#wss = new WebSocketServer({ noServer: true, maxPayload: opts.maxPayload });
    this.#heartbeat = new Heartbeat(() => this.#wss.clients, HEARTBEAT_MS);
  }

  /**
   * Verifies the token, then `check` (room access, say), then upgrades. An admitted socket holds
   * one of its user's connection slots from here until its close event, whatever happens in
   * between, so the count stays exact; `open` failing closes that socket only (1011).
   */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, how: UpgradeHow): void {
    const { token, check, open, withError = false, logFields = {} } = how;
    const { logger, label, slots } = this.#opts;
    void this.#admit(token, check, logFields).then((decision) => {
      if (socket.destroyed) return;
      this.#wss.handleUpgrade(req, socket, head, (ws) => {
        if (!this.#accepting) return ws.close(CloseCode.GoingAway, 'server shutting down');
        if (!decision.ok) {
          logger.info({ ...logFields, close: decision.close, reason: decision.reason }, `${label} connection refused`);
          return closeSocket(ws, decision.close, decision.reason, withError);
        }
        const { user } = decision;
        const releaseSlot = slots.acquire(user.id);
        if (!releaseSlot) {
          logger.warn({ ...logFields, user: user.id, max: slots.max }, `${label} connection over the per-user cap`);
          return closeSocket(ws, 'TooManyConnections', `more than ${slots.max} open connections for this user`, withError);
        }
        ws.once('close', () => {
          releaseSlot();
          logger.debug({ ...logFields, user: user.id, open: slots.count(user.id) }, `${label} connection slot released`);
        });
        this.#heartbeat.watch(ws);
        try {
          open(ws, user);
        } catch (err) {
          // A room that cannot be loaded (a corrupt snapshot, a storage fault) fails this socket only.
          logger.error({ ...logFields, err, user: user.id }, `${label} connection failed to open`);
          closeSocket(ws, 'InternalError', 'internal error', withError);
        }
      });
    });
  }

  /** Sockets open now (admitted, or refused and still closing): read by the metrics at scrape time. */
  get openSockets(): number {
    return this.#wss.clients.size;
  }

  /** Never rejects: a fault while checking (storage, say) refuses the socket with 1011. */
  async #admit(token: string | null, check: AdmissionCheck, logFields: Record<string, unknown>): Promise<Admission> {
    try {
      const user = await this.#opts.tokens.verify(token);
      const decision = await check(user);
      if (!decision.ok) return decision;
      await this.#opts.directory.users.upsert(user);
      return { ok: true, user };
    } catch (err) {
      if (err instanceof ParleyError) return { ok: false, close: 'Unauthorized', reason: err.message };
      this.#opts.logger.error({ ...logFields, err }, `${this.#opts.label} authorization failed`);
      return { ok: false, close: 'InternalError', reason: 'internal error' };
    }
  }

  /**
   * Stops accepting, runs `closeAll` (which closes every connection with 1001 Going Away) and
   * resolves once every socket has closed, so each connection's close handling (recording
   * last-seen, say) has run; sockets that do not finish the closing handshake within `graceMs`
   * are terminated.
   */
  async close(closeAll: () => void, graceMs = 2000): Promise<void> {
    this.#accepting = false;
    this.#heartbeat.stop();
    const sockets = [...this.#wss.clients];
    const allClosed = Promise.all(sockets.map((ws) => (ws.readyState === ws.CLOSED ? null : new Promise((resolve) => ws.once('close', resolve)))));
    closeAll();
    const timer = setTimeout(() => sockets.forEach((ws) => ws.terminate()), graceMs);
    await allClosed;
    clearTimeout(timer);
    this.#wss.close();
  }
}
