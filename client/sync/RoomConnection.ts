import * as Y from 'yjs';
import * as awarenessProtocol from 'y-protocols/awareness';
import { decodeServerFrame, encodeFrame, type SyncFrame } from '../../shared/protocol/frames.ts';
import { syncUrl } from '../../shared/protocol/endpoints.ts';
import { CloseCode } from '../../shared/protocol/closeCodes.ts';
import { Emitter } from '../events/Emitter.ts';
import { ClientError } from '../errors/ClientError.ts';
import { backoffDelay, type BackoffOptions } from './backoff.ts';
import { roomSplitOptions } from './roomSplitOptions.ts';
import { splitUpdate } from './splitUpdate.ts';
import { WS_OPEN, type WebSocketConstructor, type WebSocketLike } from './WebSocketLike.ts';

/** What a connection needs from the room replica it syncs. */
export interface SyncPeer {
  readonly roomId: string;
  readonly doc: Y.Doc;
  /** Resolves once every update the document holds is stored on the device. */
  whenStored(): Promise<void>;
  /** The server's state vector, before anything is sent: the peer may need a fresh client id. */
  checkServerState(stateVector: Map<number, number>): Promise<void>;
  /** An update from the server (committed there before it was relayed). */
  applyRemote(update: Uint8Array, origin: RoomConnection): void;
  /** The server committed everything this state vector covers. */
  acknowledged(stateVector: Map<number, number>): void;
  /** The server refused an update of ours (then closed the connection). */
  refused(code: string, reason: string): void;
}

export type TokenProvider = (context: { readonly renew: boolean }) => string | Promise<string>;

export type ConnectionState = 'connecting' | 'online' | 'offline';

export interface ConnectionEvents {
  [name: string]: unknown;
  state: ConnectionState;
  /** The first server syncStep2 of a socket was applied: the replica holds what the server had. */
  synced: undefined;
  ack: Map<number, number>;
  /** Reconnecting cannot help (not a member, no such room, a refused update). */
  stopped: ClientError;
  /** Something to tell the app that does not stop the connection (malformed frame, token failure). */
  error: ClientError;
}

export interface RoomConnectionOptions {
  /** http(s)://host:port of the Parley server. */
  readonly serverUrl: string;
  readonly getToken: TokenProvider;
  readonly WebSocket: WebSocketConstructor;
  readonly backoff?: BackoffOptions;
  /** Presence and typing; the connection relays its local state and applies remote states. */
  readonly awareness?: awarenessProtocol.Awareness;
  /** Close and reconnect when nothing arrived for this long (the server speaks every 15 s). */
  readonly silenceMs?: number;
  /**
   * Largest frame this connection sends. A reconnect's backlog and large live updates are split
   * into several updates under it, so it must stay under the server's PARLEY_MAX_FRAME_BYTES.
   * Default 512 KiB (DEFAULT_MAX_FRAME_BYTES).
   */
  readonly maxFrameBytes?: number;
}

const DEFAULT_SILENCE_MS = 40_000;
/**
 * Half the server's default frame limit (1 MiB): room for a server configured somewhat lower,
 * and a frame the server validates in a few milliseconds, while a 2 MiB backlog still takes only
 * a handful of frames out of the rate limit's burst of 200.
 */
export const DEFAULT_MAX_FRAME_BYTES = 512 * 1024;
/** Below this nearly every struct would travel alone: a frame per message. */
const MIN_MAX_FRAME_BYTES = 1024;
/** Sync message type, subtype and the payload's length prefix (a varUint of at most 5 bytes). */
const FRAME_HEADER_BYTES = 8;


const toBytes = (data: unknown): Uint8Array | null => {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return null;
};

/**
 * One y-websocket-protocol connection to one room, speaking Parley's additions (`parley=1`: acks
 * and errors). Unlike a stock WebsocketProvider it never sends what is not stored on the device:
 * its syncStep2 waits for the replica's writes, and live updates come from the replica after
 * they are stored (`sendUpdate`), never from the document's update event.
 *
 * Reconnects with exponential backoff and jitter; on 4401 it asks for a renewed token and retries
 * at once; 4403/4404 stop it (no access); 4422/4413 stop it after telling the replica which
 * refusal it got.
 */
export class RoomConnection {
  readonly #peer: SyncPeer;
  readonly #opts: RoomConnectionOptions;
  readonly #events = new Emitter<ConnectionEvents>();
  #ws: WebSocketLike | null = null;
  #state: ConnectionState = 'offline';
  #attempt = 0;
  #renewToken = false;
  #retryTimer: ReturnType<typeof setTimeout> | null = null;
  #silenceTimer: ReturnType<typeof setTimeout> | null = null;
  /** Our syncStep2 went out on this socket: live updates may follow (never before: clock gaps). */
  #handshakeSent = false;
  #synced = false;
  #lastError: { code: string; reason: string } | null = null;
  #stopped: ClientError | null = null;
  #closed = false;
  /** Stored local updates waiting for the end of the turn, sent merged (see sendUpdate). */
  #outbox: Uint8Array[] = [];

  constructor(peer: SyncPeer, opts: RoomConnectionOptions) {
    const max = opts.maxFrameBytes;
    if (max !== undefined && !(Number.isSafeInteger(max) && max >= MIN_MAX_FRAME_BYTES)) {
      throw new RangeError(`maxFrameBytes must be an integer of at least ${MIN_MAX_FRAME_BYTES}, got ${max}`);
    }
    this.#peer = peer;
    this.#opts = opts;
    opts.awareness?.on('update', this.#onAwarenessUpdate);
  }

  get state(): ConnectionState {
    return this.#state;
  }

  /** Synced on the current socket. */
  get synced(): boolean {
    return this.#synced;
  }

  get stopped(): ClientError | null {
    return this.#stopped;
  }

  on<K extends keyof ConnectionEvents>(name: K, listener: (payload: ConnectionEvents[K]) => void): () => void {
    return this.#events.on(name, listener);
  }

  connect(): void {
    if (this.#closed || this.#stopped || this.#ws || this.#state === 'connecting') return;
    this.#clearRetry();
    this.#setState('connecting');
    void this.#open();
  }

  /**
   * Drops the socket (which may be dead without knowing it: after a network change no close
   * arrives until the silence timeout) and connects again at once, backoff reset. For the
   * browser's `online` event.
   */
  reconnectNow(): void {
    // Already fetching a token for a new socket: that socket is the fresh one.
    if (this.#closed || this.#stopped || (this.#state === 'connecting' && !this.#ws)) return;
    this.#clearRetry();
    this.#attempt = 0;
    if (this.#ws) {
      this.#dropSocket(CloseCode.Normal, 'reconnecting');
      this.#onClose(CloseCode.GoingAway, 'reconnecting');
      this.#clearRetry();
    }
    this.#setState('offline');
    this.connect();
  }

  /**
   * Sends a stored local update, if the handshake is done (else the next syncStep2 carries it).
   * Updates handed over in the same turn leave together, merged and cut to the frame budget: the
   * server's rate limit counts frames, not bytes.
   */
  sendUpdate(update: Uint8Array): void {
    if (!this.#handshakeSent) return;
    this.#outbox.push(update);
    if (this.#outbox.length === 1) queueMicrotask(this.#flushOutbox);
  }

  readonly #flushOutbox = (): void => {
    const updates = this.#outbox;
    this.#outbox = [];
    // Dropped with its socket: the next socket's syncStep2 carries whatever is stored.
    if (updates.length === 0 || !this.#handshakeSent) return;
    const merged = updates.length === 1 ? updates[0]! : Y.mergeUpdates(updates);
    for (const chunk of this.#split(merged)) {
      this.#send(encodeFrame({ type: 'update', update: chunk }));
    }
  };

  #split(update: Uint8Array): Uint8Array[] {
    const budget = (this.#opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES) - FRAME_HEADER_BYTES;
    return update.byteLength <= budget ? [update] : splitUpdate(update, budget, roomSplitOptions(this.#peer.doc));
  }

  /** Closes for good; releases timers and remote awareness states. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#clearRetry();
    this.#opts.awareness?.off('update', this.#onAwarenessUpdate);
    this.#dropSocket(CloseCode.Normal, 'client closed');
    this.#setState('offline');
    this.#events.clear();
  }

  async #open(): Promise<void> {
    let token: string;
    try {
      token = await this.#opts.getToken({ renew: this.#renewToken });
    } catch (error) {
      this.#events.emit('error', new ClientError('unauthorized', `the token provider failed: ${String(error)}`, error));
      this.#scheduleRetry();
      return;
    }
    if (this.#closed || this.#stopped) return;
    let ws: WebSocketLike;
    try {
      ws = new this.#opts.WebSocket(syncUrl(this.#opts.serverUrl, this.#peer.roomId, token));
    } catch (error) {
      this.#events.emit('error', new ClientError('network', `cannot open a WebSocket: ${String(error)}`, error));
      this.#scheduleRetry();
      return;
    }
    ws.binaryType = 'arraybuffer';
    this.#ws = ws;
    this.#handshakeSent = false;
    this.#outbox = [];
    this.#synced = false;
    this.#lastError = null;
    ws.onopen = () => {
      if (ws !== this.#ws) return;
      this.#touch();
      this.#send(encodeFrame({ type: 'syncStep1', stateVector: Y.encodeStateVector(this.#peer.doc) }));
      const awareness = this.#opts.awareness;
      if (awareness && awareness.getLocalState() !== null) {
        this.#send(this.#awarenessFrame(awarenessProtocol.encodeAwarenessUpdate(awareness, [awareness.clientID])));
      }
    };
    ws.onmessage = (event) => {
      if (ws !== this.#ws) return;
      this.#touch();
      const bytes = toBytes(event.data);
      if (!bytes) return this.#malformed('a text frame');
      this.#receive(ws, bytes);
    };
    ws.onclose = (event) => {
      if (ws !== this.#ws) return;
      this.#onClose(event.code, event.reason);
    };
    ws.onerror = () => {
      // A close event always follows; it carries the code that decides what to do.
    };
  }

  #receive(ws: WebSocketLike, bytes: Uint8Array): void {
    const decoded = decodeServerFrame(bytes);
    if (!decoded.ok) return this.#malformed(decoded.reason);
    const message = decoded.frame;
    // Types this client does not know (future extensions, y-websocket auth) are ignored.
    if (message === null) return;
    try {
      switch (message.type) {
        case 'syncStep1':
        case 'syncStep2':
        case 'update':
          this.#receiveSync(ws, message);
          return;
        case 'awareness':
          if (this.#opts.awareness) awarenessProtocol.applyAwarenessUpdate(this.#opts.awareness, message.update, this);
          return;
        case 'ack': {
          const stateVector = Y.decodeStateVector(message.stateVector);
          this.#peer.acknowledged(stateVector);
          this.#events.emit('ack', stateVector);
          return;
        }
        case 'error':
          this.#lastError = { code: message.code, reason: message.reason };
          return;
        default: {
          const unknown: never = message;
          throw new Error(`unhandled frame ${JSON.stringify(unknown)}`);
        }
      }
    } catch (error) {
      this.#malformed(error instanceof Error ? error.message : String(error));
    }
  }

  #receiveSync(ws: WebSocketLike, message: SyncFrame): void {
    switch (message.type) {
      case 'syncStep1':
        void this.#answerStep1(ws, message.stateVector);
        return;
      case 'syncStep2':
        this.#peer.applyRemote(message.update, this);
        if (!this.#synced) {
          this.#synced = true;
          this.#attempt = 0;
          this.#renewToken = false;
          this.#setState('online');
          this.#events.emit('synced', undefined);
        }
        return;
      case 'update':
        this.#peer.applyRemote(message.update, this);
        return;
      default: {
        const unknown: never = message;
        throw new Error(`unhandled sync frame ${JSON.stringify(unknown)}`);
      }
    }
  }

  /** Our syncStep2: only what is stored on the device, and only after the client id check. */
  async #answerStep1(ws: WebSocketLike, encodedStateVector: Uint8Array): Promise<void> {
    try {
      await this.#peer.checkServerState(Y.decodeStateVector(encodedStateVector));
      await this.#peer.whenStored();
    } catch (error) {
      this.#events.emit('error', error instanceof ClientError ? error : new ClientError('storage_failed', String(error), error));
      if (ws === this.#ws) this.#dropSocket(CloseCode.Normal, 'local storage failed');
      this.#scheduleRetry();
      return;
    }
    if (ws !== this.#ws || ws.readyState !== WS_OPEN) return;
    // Synchronous from here: whenStored() resolved with nothing queued, so the document holds
    // exactly what is stored, and every later local write is sent live after its own storing.
    const diff = Y.encodeStateAsUpdate(this.#peer.doc, encodedStateVector);
    // The first part answers as syncStep2; the rest follow as updates, in the order the split
    // needs (the server takes both alike, each judged against what the earlier ones added).
    this.#split(diff).forEach((chunk, i) => {
      this.#send(encodeFrame(i === 0 ? { type: 'syncStep2', update: chunk } : { type: 'update', update: chunk }));
    });
    this.#handshakeSent = true;
  }

  #onClose(code: number, reason: string): void {
    this.#ws = null;
    this.#handshakeSent = false;
    this.#outbox = [];
    this.#synced = false;
    this.#clearSilence();
    this.#removeRemoteAwareness();
    if (this.#closed) return;
    const error = this.#lastError;
    switch (true) {
      case code === CloseCode.Unauthorized:
        // Renew at once; a second 4401 in a row (renewal did not help) backs off like any failure.
        if (!this.#renewToken) {
          this.#renewToken = true;
          this.#setState('offline');
          this.connect();
          return;
        }
        break;
      case code === CloseCode.Forbidden || code === CloseCode.RoomNotFound:
        this.#stop(new ClientError('access_denied', `${code}: ${error?.reason ?? reason}`));
        return;
      case code === CloseCode.UpdateRefused || code === CloseCode.DocumentTooLarge: {
        const refusal = error ?? { code: 'update_refused', reason: reason || 'the server refused an update' };
        this.#peer.refused(refusal.code, refusal.reason);
        this.#stop(new ClientError('update_refused', `${refusal.code}: ${refusal.reason}`));
        return;
      }
      default:
        break;
    }
    this.#setState('offline');
    this.#scheduleRetry();
  }

  #stop(error: ClientError): void {
    this.#stopped = error;
    this.#setState('offline');
    this.#events.emit('stopped', error);
  }

  #scheduleRetry(): void {
    if (this.#closed || this.#stopped || this.#retryTimer) return;
    this.#setState('offline');
    const delay = backoffDelay(this.#attempt++, this.#opts.backoff);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      this.connect();
    }, delay);
  }

  #clearRetry(): void {
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
  }

  #touch(): void {
    this.#clearSilence();
    const ws = this.#ws;
    this.#silenceTimer = setTimeout(() => {
      if (ws === this.#ws) this.#dropSocket(CloseCode.Normal, 'server silent');
      this.#onClose(CloseCode.GoingAway, 'server silent');
    }, this.#opts.silenceMs ?? DEFAULT_SILENCE_MS);
  }

  #clearSilence(): void {
    if (this.#silenceTimer) clearTimeout(this.#silenceTimer);
    this.#silenceTimer = null;
  }

  #malformed(what: string): void {
    this.#events.emit('error', new ClientError('invalid_data', `malformed frame from the server: ${what}`));
    const ws = this.#ws;
    if (!ws) return;
    this.#dropSocket(CloseCode.ProtocolError, 'malformed frame');
    this.#onClose(CloseCode.ProtocolError, 'malformed frame');
  }

  /** Detaches and closes the current socket; its close event is then ignored. */
  #dropSocket(code: number, reason: string): void {
    const ws = this.#ws;
    this.#ws = null;
    this.#clearSilence();
    if (!ws) return;
    ws.onopen = ws.onmessage = ws.onclose = null;
    // Closing a socket that is still connecting reports an error; with no handler `ws` throws it.
    ws.onerror = () => {};
    try {
      ws.close(code, reason);
    } catch {
      // Already closing.
    }
  }

  #send(bytes: Uint8Array): void {
    const ws = this.#ws;
    if (ws && ws.readyState === WS_OPEN) ws.send(bytes);
  }

  #setState(state: ConnectionState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.#events.emit('state', state);
  }

  #awarenessFrame(update: Uint8Array): Uint8Array {
    return encodeFrame({ type: 'awareness', update });
  }

  readonly #onAwarenessUpdate = (
    { added, updated, removed }: { added: number[]; updated: number[]; removed: number[] },
    origin: unknown,
  ): void => {
    const awareness = this.#opts.awareness;
    if (!awareness || origin === this || !this.#synced) return;
    const own = added.concat(updated, removed).filter((id) => id === awareness.clientID);
    if (own.length > 0) this.#send(this.#awarenessFrame(awarenessProtocol.encodeAwarenessUpdate(awareness, own)));
  };

  #removeRemoteAwareness(): void {
    const awareness = this.#opts.awareness;
    if (!awareness) return;
    const remote = [...awareness.getStates().keys()].filter((id) => id !== awareness.clientID);
    if (remote.length > 0) awarenessProtocol.removeAwarenessStates(awareness, remote, this);
  }
}
