import { WebSocket } from 'ws';
import { muxSyncUrl } from '../../shared/protocol/endpoints.ts';

/**
 * A benchmark's multiplexed sync socket (MuxReader, BenchMux): its frames go to `onFrame`, and
 * anything the server ends (the socket closed, an error) fails `failed`, which every wait of the
 * owner races, so a benchmark stops with the reason instead of waiting forever.
 */
export class BenchSocket {
  readonly label: string;
  readonly failed: Promise<never>;
  /** Where the server's frames go (set by the owner before it opens anything). */
  onFrame: (data: Buffer) => void = () => {};
  readonly #ws: WebSocket;
  #closing = false;
  #fail: (error: Error) => void = () => {};

  private constructor(ws: WebSocket, label: string) {
    this.#ws = ws;
    this.label = label;
    this.failed = new Promise<never>((_, reject) => (this.#fail = reject));
    this.failed.catch(() => {});
    ws.on('message', (data: Buffer) => this.onFrame(data));
    ws.on('close', (code: number, reason: Buffer) => {
      if (!this.#closing) this.#fail(new Error(`${label}: socket closed by the server (${code} ${reason.toString()})`));
    });
    ws.on('error', (error: Error) => this.#fail(new Error(`${label}: ${error.message}`)));
  }

  static open(httpUrl: string, token: string, label: string): Promise<BenchSocket> {
    const ws = new WebSocket(muxSyncUrl(httpUrl, token), { perMessageDeflate: false });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new BenchSocket(ws, label)));
      ws.once('error', reject);
    });
  }

  get closing(): boolean {
    return this.#closing;
  }

  /** Ends the benchmark's waits on this socket with `error`. */
  fail(error: Error): void {
    this.#fail(error);
  }

  send(bytes: Uint8Array): void {
    this.#ws.send(bytes);
  }

  /** Closes the socket (and every channel on it); resolves once closed. */
  close(): Promise<void> {
    this.#closing = true;
    if (this.#ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.#ws.once('close', () => resolve());
      this.#ws.close();
    });
  }
}
