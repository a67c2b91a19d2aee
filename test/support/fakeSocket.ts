import * as Y from 'yjs';
import type { SyncPeer } from '../../client/sync/RoomConnection.ts';
import { WS_OPEN, type WebSocketLike } from '../../client/sync/WebSocketLike.ts';

/** A socket that records what a RoomConnection sends; the test plays the server. */
export class FakeSocket implements WebSocketLike {
  static #created: Array<(socket: FakeSocket) => void> = [];
  /** The next socket the connection opens. */
  static next(): Promise<FakeSocket> {
    return new Promise((resolve) => FakeSocket.#created.push(resolve));
  }
  binaryType = 'arraybuffer';
  readyState = 0;
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  readonly sent: Uint8Array[] = [];
  #sending: Array<() => void> = [];
  constructor(readonly url: string) {
    for (const resolve of FakeSocket.#created.splice(0)) resolve(this);
  }
  send(data: Uint8Array): void {
    this.sent.push(data);
    for (const resolve of this.#sending.splice(0)) resolve();
  }
  /** Resolves at the next frame sent. */
  nextSend(): Promise<void> {
    return new Promise((resolve) => this.#sending.push(resolve));
  }
  close(): void {
    this.readyState = 3;
  }
  open(): void {
    this.readyState = WS_OPEN;
    this.onopen?.({});
  }
  receive(bytes: Uint8Array): void {
    this.onmessage?.({ data: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) });
  }
  /** Connects `connection`, opens the socket it makes, and resolves once it sent its step 1. */
  static async openFor(connection: { connect(): void }): Promise<FakeSocket> {
    const created = FakeSocket.next();
    connection.connect();
    const socket = await created;
    const step1Sent = socket.nextSend();
    socket.open();
    await step1Sent;
    return socket;
  }
  /** The server closes the socket with `code`. */
  serverCloses(code: number, reason = ''): void {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }
}

/** A replica stand-in over a bare document: stores at once, applies what the server sends. */
export function peerOf(doc: Y.Doc, refused: (code: string, reason: string) => void = () => {}): SyncPeer {
  return {
    roomId: '0190a3f4-0000-7000-8000-000000000000',
    doc,
    whenStored: () => Promise.resolve(),
    checkServerState: () => Promise.resolve(),
    applyRemote: (update) => Y.applyUpdate(doc, update),
    acknowledged: () => {},
    refused,
  };
}

