import { WebSocket } from 'ws';
import { frameMessageType } from '../../shared/protocol/frames.ts';

/** A bare WebSocket on the sync endpoint, for sending hand-made (and malformed) frames. */
export class RawSocket {
  readonly ws: WebSocket;
  readonly received: Uint8Array[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  #waiters: Array<{ predicate: (m: Uint8Array) => boolean; resolve: (m: Uint8Array) => void }> = [];

  private constructor(ws: WebSocket) {
    this.ws = ws;
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    ws.on('message', (data: Buffer) => {
      const message = new Uint8Array(data);
      this.received.push(message);
      this.#waiters = this.#waiters.filter((w) => {
        if (!w.predicate(message)) return true;
        w.resolve(message);
        return false;
      });
    });
  }

  /** Opens a socket; resolves once open (the server may still close it right after). */
  static open(url: string): Promise<RawSocket> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      const socket = new RawSocket(ws);
      ws.once('open', () => resolve(socket));
      ws.once('error', reject);
    });
  }

  send(bytes: Uint8Array | string): void {
    this.ws.send(bytes);
  }

  /** The first message (already received or future) for which `predicate` holds. */
  next(predicate: (m: Uint8Array) => boolean = () => true): Promise<Uint8Array> {
    const seen = this.received.find(predicate);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => this.#waiters.push({ predicate, resolve }));
  }

  close(): void {
    this.ws.close();
  }
}

/** The top-level message type of a frame. */
export const messageTypeOf = (m: Uint8Array): number => frameMessageType(m) ?? -1;
