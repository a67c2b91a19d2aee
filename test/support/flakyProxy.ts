import net from 'node:net';

/**
 * A TCP proxy in front of the server that a test makes as bad as a mobile link: it delays every
 * chunk, stalls (holds everything in both directions until released), and cuts (destroys every
 * connection at once, without a close handshake). Bytes are never reordered or dropped while a
 * connection lives, as TCP promises; a cut loses what was in flight, as a real cut does.
 */
export class FlakyProxy {
  readonly #server: net.Server;
  readonly #target: { host: string; port: number };
  readonly #pairs = new Set<Pair>();
  #delayMs = 0;
  #stalled = false;

  private constructor(server: net.Server, target: { host: string; port: number }) {
    this.#server = server;
    this.#target = target;
    server.on('connection', (client) => this.#accept(client));
  }

  /** Listens on a free port of 127.0.0.1 and forwards to `target`. */
  static async start(target: { host: string; port: number }): Promise<FlakyProxy> {
    const server = net.createServer();
    const proxy = new FlakyProxy(server, target);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get port(): number {
    const address = this.#server.address();
    if (address === null || typeof address === 'string') throw new Error('not listening');
    return address.port;
  }

  /** Connections open through the proxy now. */
  get connections(): number {
    return this.#pairs.size;
  }

  /** Every chunk from now on waits this long (in both directions). */
  delay(ms: number): void {
    this.#delayMs = ms;
  }

  /** Holds every byte in both directions until `release`. */
  stall(): void {
    this.#stalled = true;
  }

  release(): void {
    this.#stalled = false;
    for (const pair of this.#pairs) pair.flush();
  }

  /** Destroys every open connection at once, both sides, with no close handshake. */
  cut(): void {
    for (const pair of [...this.#pairs]) pair.destroy();
  }

  /** No delay, no stall: a good link again. */
  heal(): void {
    this.delay(0);
    this.release();
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(client: net.Socket): void {
    const upstream = net.connect(this.#target.port, this.#target.host);
    const pair = new Pair(client, upstream, () => this.#delayMs, () => this.#stalled);
    this.#pairs.add(pair);
    pair.onClose = () => this.#pairs.delete(pair);
  }
}

/** One proxied connection: two sockets and, per direction, the chunks not yet forwarded. */
class Pair {
  onClose: () => void = () => {};
  readonly #client: net.Socket;
  readonly #upstream: net.Socket;
  readonly #lanes: Lane[];
  #closed = false;

  constructor(client: net.Socket, upstream: net.Socket, delayMs: () => number, stalled: () => boolean) {
    this.#client = client;
    this.#upstream = upstream;
    this.#lanes = [new Lane(client, upstream, delayMs, stalled), new Lane(upstream, client, delayMs, stalled)];
    for (const socket of [client, upstream]) {
      socket.setNoDelay(true);
      socket.on('error', () => this.destroy());
      socket.on('close', () => this.destroy());
    }
  }

  flush(): void {
    for (const lane of this.#lanes) lane.pump();
  }

  destroy(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const lane of this.#lanes) lane.stop();
    this.#client.destroy();
    this.#upstream.destroy();
    this.onClose();
  }
}

/** One direction: chunks are forwarded in order, each no earlier than its arrival plus the delay. */
class Lane {
  readonly #to: net.Socket;
  readonly #delayMs: () => number;
  readonly #stalled: () => boolean;
  readonly #queue: Array<{ chunk: Buffer; due: number }> = [];
  #timer: NodeJS.Timeout | null = null;
  #stopped = false;

  constructor(from: net.Socket, to: net.Socket, delayMs: () => number, stalled: () => boolean) {
    this.#to = to;
    this.#delayMs = delayMs;
    this.#stalled = stalled;
    from.on('data', (chunk: Buffer) => {
      this.#queue.push({ chunk, due: Date.now() + this.#delayMs() });
      this.pump();
    });
  }

  pump(): void {
    if (this.#stopped || this.#timer !== null || this.#stalled()) return;
    while (this.#queue.length > 0) {
      const head = this.#queue[0];
      if (!head) break;
      const wait = head.due - Date.now();
      if (wait > 0) {
        this.#timer = setTimeout(() => {
          this.#timer = null;
          this.pump();
        }, wait);
        return;
      }
      this.#queue.shift();
      if (!this.#to.destroyed) this.#to.write(head.chunk);
    }
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#queue.length = 0;
  }
}
