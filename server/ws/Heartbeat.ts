import type { WebSocket } from 'ws';
import { heartbeatVerdict } from './heartbeatVerdict.ts';

/**
 * Pings a set of sockets every `intervalMs` and drops those judged dead (heartbeatVerdict): the
 * client endpoints' sockets (SocketEndpoint) and the node links (SyncServer). A socket counts as
 * alive once it answers a ping, or whenever its owner says so (`alive`: a link is alive while any
 * frame comes from it, a busy owner's pong waiting behind its own frames).
 */
export class Heartbeat {
  readonly #alive = new WeakSet<WebSocket>();
  /** Each socket's unsent bytes at the last ping (see heartbeatVerdict). */
  readonly #bufferedAtPing = new WeakMap<WebSocket, number>();
  readonly #timer: NodeJS.Timeout;
  readonly #intervalMs: number;
  readonly #sockets: () => Iterable<WebSocket>;
  #lastPingAt = performance.now();

  constructor(sockets: () => Iterable<WebSocket>, intervalMs: number) {
    this.#sockets = sockets;
    this.#intervalMs = intervalMs;
    this.#timer = setInterval(() => this.#pingAll(), intervalMs);
    this.#timer.unref();
  }

  /** Watches a socket from now on: alive now, and again whenever it answers a ping. */
  watch(ws: WebSocket): void {
    this.#alive.add(ws);
    ws.on('pong', () => this.#alive.add(ws));
  }

  /** The socket showed it is alive (a frame from it). */
  alive(ws: WebSocket): void {
    this.#alive.add(ws);
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  #pingAll(): void {
    const now = performance.now();
    const sinceLastPing = now - this.#lastPingAt;
    this.#lastPingAt = now;
    for (const ws of this.#sockets()) {
      const buffered = ws.bufferedAmount;
      if (heartbeatVerdict(this.#alive.has(ws), buffered, this.#bufferedAtPing.get(ws), sinceLastPing, this.#intervalMs) === 'terminate') {
        ws.terminate();
        continue;
      }
      this.#bufferedAtPing.set(ws, buffered);
      this.#alive.delete(ws);
      ws.ping();
    }
  }
}
