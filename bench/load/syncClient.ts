import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { WebSocket } from 'ws';
import * as Y from 'yjs';
import { MessageType } from '../../shared/protocol/messageTypes.ts';
import { readAck, readError, readSync, writeAwareness, writeSyncStep1, writeSyncStep2, writeUpdate } from '../../shared/protocol/frames.ts';
import { encodeAwarenessUpdate } from '../../shared/protocol/awarenessUpdate.ts';
import type { Protocol } from './peerServer.ts';

/*
 * One load-generating client, the same code for every peer: a WebSocket speaking the y-protocols
 * sync and awareness messages, framed as y-websocket does (Parley, the reference relay, the raw
 * relay) or as Hocuspocus does (every message prefixed by the document name, an auth message
 * first). Hocuspocus is driven through its wire format rather than @hocuspocus/provider so that
 * every peer is measured with the same client cost (500 providers, each with its own Y.Doc and
 * timers, would measure the load generator); the messages are those the provider sends.
 *
 * A client with a `doc` sends that doc's local updates and answers sync step 1 from it; a client
 * without one (an observer) answers with an empty update and never decodes what it receives
 * beyond what `onUpdate` does. Any close the harness did not ask for fails the client: figures
 * from a run with a dropped connection would measure reconnects.
 */

/** awareness • varByteArray(update), update := varUint(count) • entries: the count. */
function awarenessEntries(decoder: decoding.Decoder): number {
  return decoding.readVarUint(decoding.createDecoder(decoding.readVarUint8Array(decoder)));
}

/** Hocuspocus message types (packages/server/src/types.ts) and its auth sub-types. */
const HP = { Sync: 0, Awareness: 1, Auth: 2, QueryAwareness: 3, SyncReply: 4, Stateless: 5, Close: 7, SyncStatus: 8 } as const;
const HP_AUTH = { Token: 0, PermissionDenied: 1, Authenticated: 2 } as const;
const EMPTY_UPDATE = Y.encodeStateAsUpdate(new Y.Doc());
/** Transaction origin of updates this client applied from the network: never sent back. */
export const REMOTE = Symbol('remote');

export interface ClientOptions {
  readonly url: string;
  readonly docName: string;
  readonly protocol: Protocol;
  /** Sent as the auth token (Hocuspocus); Parley's goes in the URL. */
  readonly token?: string;
  readonly doc?: Y.Doc;
  /** Send `doc`'s local updates as they happen (default); off, the caller sends them with sendUpdate. */
  readonly autoSend?: boolean;
  /** Apply received updates to `doc` (off: a writer ignores what others write). */
  readonly applyRemote?: boolean;
  /** Every update payload the server sends (sync step 2 or update), with its arrival time. */
  readonly onUpdate?: (update: Uint8Array, at: number) => void;
  /** Every awareness message, with its size. */
  /** Each awareness frame received: its size, when, and how many client states it carries (a server may batch them). */
  readonly onAwareness?: (bytes: number, at: number, entries: number) => void;
  readonly label: string;
}

export class SyncClient {
  readonly opts: ClientOptions;
  readonly socket: WebSocket;
  /** Resolves with the time (performance.now) the first sync step 2 arrived (the raw relay: when open). */
  readonly synced: Promise<number>;
  /** Rejects when the connection closes unasked or the server reports an error. */
  readonly failed: Promise<never>;
  /** Parley: the newest acknowledged state vector. */
  acked = new Map<number, number>();
  #ackListeners = new Set<() => void>();
  #resolveSynced: (at: number) => void = () => {};
  #fail: (error: Error) => void = () => {};
  #closing = false;
  #isSynced = false;
  /** Bytes of sync payload (step 2 and updates) received so far. */
  receivedSyncBytes = 0;

  constructor(opts: ClientOptions) {
    this.opts = opts;
    this.synced = new Promise((resolve) => (this.#resolveSynced = resolve));
    this.failed = new Promise<never>((_, reject) => (this.#fail = reject));
    this.failed.catch(() => {});
    this.socket = new WebSocket(opts.url, { perMessageDeflate: false });
    this.socket.binaryType = 'nodebuffer';
    this.socket.on('open', this.#onOpen);
    this.socket.on('message', this.#onMessage);
    const born = performance.now();
    this.socket.on('close', (code: number, reason: Buffer) => {
      const after = ((performance.now() - born) / 1000).toFixed(1);
      if (!this.#closing) this.#fail(new Error(`${opts.label}: connection closed by the server (${code} ${reason.toString()}) ${after} s after it opened`));
    });
    this.socket.on('error', (error: Error) => {
      if (!this.#closing) this.#fail(new Error(`${opts.label}: ${error.message}`));
    });
    if (opts.autoSend !== false) opts.doc?.on('update', this.#onDocUpdate);
  }

  get isSynced(): boolean {
    return this.#isSynced;
  }

  /** Sends a Yjs update as a sync `update` message. */
  sendUpdate(update: Uint8Array): void {
    this.#send((e) => writeUpdate(e, update));
  }

  /** Sends an awareness update (y-protocols encoding: entries of clientID, clock, state JSON). */
  sendAwareness(clientId: number, clock: number, state: unknown): void {
    const body = encodeAwarenessUpdate([{ clientId, clock, state: state as Record<string, unknown> | null }]);
    this.#send((e) => writeAwareness(e, body));
  }

  /** Resolves once the server acknowledged (Parley) everything `doc` wrote under its own client id. */
  acknowledged(): Promise<void> {
    const doc = this.opts.doc;
    if (!doc) return Promise.reject(new Error('acknowledged() needs a doc'));
    const want = Y.getState(doc.store, doc.clientID);
    if ((this.acked.get(doc.clientID) ?? 0) >= want) return Promise.resolve();
    return new Promise((resolve) => {
      const check = (): void => {
        if ((this.acked.get(doc.clientID) ?? 0) < want) return;
        this.#ackListeners.delete(check);
        resolve();
      };
      this.#ackListeners.add(check);
    });
  }

  /** Closes on purpose; resolves when the socket is closed. */
  close(): Promise<void> {
    this.#closing = true;
    this.opts.doc?.off('update', this.#onDocUpdate);
    if (this.socket.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.socket.once('close', () => resolve());
      if (this.socket.readyState === WebSocket.CONNECTING) this.socket.terminate();
      else this.socket.close();
    });
  }

  /** Drops the TCP connection at once (no close handshake); for tearing down hundreds quickly. */
  terminate(): void {
    this.#closing = true;
    this.opts.doc?.off('update', this.#onDocUpdate);
    this.socket.terminate();
  }

  readonly #onOpen = (): void => {
    const { protocol, doc } = this.opts;
    if (protocol === 'raw') {
      this.#markSynced();
      return;
    }
    if (protocol === 'hocuspocus') {
      this.#send((e) => {
        encoding.writeVarUint(e, HP.Auth);
        encoding.writeVarUint(e, HP_AUTH.Token);
        encoding.writeVarString(e, this.opts.token ?? '');
      });
    }
    this.#send((e) => writeSyncStep1(e, doc ? Y.encodeStateVector(doc) : new Uint8Array([0])));
  };

  readonly #onDocUpdate = (update: Uint8Array, origin: unknown): void => {
    if (origin === REMOTE || this.socket.readyState !== WebSocket.OPEN) return;
    this.sendUpdate(update);
  };

  #markSynced(): void {
    if (this.#isSynced) return;
    this.#isSynced = true;
    this.#resolveSynced(performance.now());
  }

  #send(write: (encoder: encoding.Encoder) => void): void {
    const encoder = encoding.createEncoder();
    if (this.opts.protocol === 'hocuspocus') encoding.writeVarString(encoder, this.opts.docName);
    write(encoder);
    this.socket.send(encoding.toUint8Array(encoder));
  }

  readonly #onMessage = (data: Buffer): void => {
    const at = performance.now();
    try {
      this.#handle(data, at);
    } catch (error) {
      this.#fail(new Error(`${this.opts.label}: undecodable message from the server: ${(error as Error).message}`));
    }
  };

  #handle(data: Uint8Array, at: number): void {
    const { protocol } = this.opts;
    if (protocol === 'raw') {
      // Whatever the other clients sent, byte for byte: y-websocket update or awareness frames.
      const decoder = decoding.createDecoder(data);
      const type = decoding.readVarUint(decoder);
      if (type === MessageType.Awareness) this.opts.onAwareness?.(data.byteLength, at, awarenessEntries(decoder));
      if (type !== MessageType.Sync) return;
      const sync = readSync(decoder);
      if (typeof sync !== 'string' && sync.type === 'update') this.#received(sync.update, at);
      return;
    }
    const decoder = decoding.createDecoder(data);
    if (protocol === 'hocuspocus') decoding.readVarString(decoder);
    const type = decoding.readVarUint(decoder);
    if (type === MessageType.Sync || (protocol === 'hocuspocus' && type === HP.SyncReply)) {
      const sync = readSync(decoder);
      if (typeof sync === 'string') return;
      if (sync.type === 'syncStep1') {
        const doc = this.opts.doc;
        const answer = doc ? Y.encodeStateAsUpdate(doc, sync.stateVector) : EMPTY_UPDATE;
        this.#send((e) => writeSyncStep2(e, answer));
      } else {
        this.#received(sync.update, at);
        if (sync.type === 'syncStep2') this.#markSynced();
      }
      return;
    }
    if (type === MessageType.Awareness) {
      this.opts.onAwareness?.(data.byteLength, at, awarenessEntries(decoder));
      return;
    }
    if (protocol === 'hocuspocus') {
      if (type === HP.Auth && decoding.readVarUint(decoder) === HP_AUTH.PermissionDenied) {
        this.#fail(new Error(`${this.opts.label}: permission denied: ${decoding.readVarString(decoder)}`));
      } else if (type === HP.Close) {
        this.#fail(new Error(`${this.opts.label}: server sent close: ${decoding.readVarString(decoder)}`));
      }
      return;
    }
    if (type === MessageType.Ack) {
      this.acked = Y.decodeStateVector(readAck(decoder).stateVector);
      for (const listener of [...this.#ackListeners]) listener();
    } else if (type === MessageType.Error) {
      const { code, reason } = readError(decoder);
      this.#fail(new Error(`${this.opts.label}: server error ${code}: ${reason}`));
    }
  }

  #received(update: Uint8Array, at: number): void {
    this.receivedSyncBytes += update.byteLength;
    if (this.opts.applyRemote && this.opts.doc) Y.applyUpdate(this.opts.doc, update, REMOTE);
    this.opts.onUpdate?.(update, at);
  }
}
