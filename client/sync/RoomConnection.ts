/*
 * Over 350 lines for a reason: one protocol state machine, every phase transition in one file so
 * that each can be read against the others; its types and phases live in connectionTypes.ts and
 * connectionPhase.ts.
 */
import * as Y from 'yjs';
import * as awarenessProtocol from 'y-protocols/awareness';
import { parseRecentPage } from '../../shared/protocol/recentPage.ts';
import { decodeServerFrame, encodeFrame, type SyncFrame } from '../../shared/protocol/frames.ts';
import { CloseCode } from '../../shared/protocol/closeCodes.ts';
import { Emitter } from '../events/Emitter.ts';
import { ClientError } from '../errors/ClientError.ts';
import { backoffDelay } from './backoff.ts';
import { roomSplitOptions } from '../../shared/roomDoc/roomSplitOptions.ts';
import { splitUpdate } from '../../shared/yjs/splitUpdate.ts';
import { SILENT_CLOSE_REASON, WS_OPEN, type WebSocketLike } from './WebSocketLike.ts';
import type { ConnectionEvents, ConnectionState, RoomConnectionOptions, SyncPeer } from './connectionTypes.ts';
import { stateOf, type Phase, type Socket } from './connectionPhase.ts';
import { DEFAULT_SILENCE_MS, watchSilence } from './watchSilence.ts';

export type { ConnectionEvents, ConnectionState, RoomConnectionOptions, SyncPeer, TokenProvider } from './connectionTypes.ts';

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
 * at once; 4403/4404 stop it (no access). After a refusal (4422, 4513) it tells the replica which
 * refusal it got and reconnects holding the device's writes: it reads (the server's changes,
 * presence) and sends nothing of the document, since the refused change would go again, until
 * `resume()` (after an owner made room, say) or the app discards the refused changes. Its life is
 * one Phase at a time; the public `state` derives from it.
 */
export class RoomConnection {
  readonly #peer: SyncPeer;
  readonly #opts: RoomConnectionOptions;
  readonly #events = new Emitter<ConnectionEvents>();
  #phase: Phase = { kind: 'idle' };
  #state: ConnectionState = 'offline';
  /** Failed attempts since the last sync: the backoff's exponent. */
  #attempt = 0;
  /** Ask the token provider for a renewed token (the last socket closed with 4401). */
  #renewToken = false;
  /** Reads only: the device's writes stay on the device (after a refusal, until resume()). */
  #holding = false;

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
    return this.#phase.kind === 'socket' && this.#phase.socket.synced;
  }

  get stopped(): ClientError | null {
    return this.#phase.kind === 'stopped' ? this.#phase.error : null;
  }

  /** Whether the connection holds the device's writes back (reads only). */
  get holding(): boolean {
    return this.#holding;
  }

  /**
   * Holds the device's writes back from the next handshake on (reads only), or lets them go
   * again: with `false` on a live socket, it reconnects at once so that its sync step 2 carries
   * what was held.
   */
  holdWrites(hold: boolean): void {
    if (this.#holding === hold) return;
    this.#holding = hold;
    if (!hold && this.#phase.kind === 'socket') this.reconnectNow();
  }

  on<K extends keyof ConnectionEvents>(name: K, listener: (payload: ConnectionEvents[K]) => void): () => void {
    return this.#events.on(name, listener);
  }

  /** Starts connecting, unless a socket, a token request or a retry is already under way. */
  connect(): void {
    const phase = this.#phase;
    if (phase.kind !== 'idle' && phase.kind !== 'waiting') return;
    if (phase.kind === 'waiting') clearTimeout(phase.timer);
    this.#enter({ kind: 'fetchingToken' });
    void this.#open();
  }

  /**
   * Drops the socket (which may be dead without knowing it: after a network change no close
   * arrives until the silence timeout) and connects again at once, backoff reset. For the
   * browser's `online` event.
   */
  reconnectNow(): void {
    const phase = this.#phase;
    // Already fetching a token for a new socket: that socket is the fresh one.
    if (phase.kind === 'closed' || phase.kind === 'stopped' || phase.kind === 'fetchingToken') return;
    this.#attempt = 0;
    if (phase.kind === 'socket') this.#endSocket(phase.socket, CloseCode.Normal, 'reconnecting');
    if (phase.kind === 'waiting') clearTimeout(phase.timer);
    this.#enter({ kind: 'idle' });
    this.connect();
  }

  /**
   * Sends a stored local update, if the handshake is done (else the next syncStep2 carries it).
   * Updates handed over in the same turn leave together, merged and cut to the frame budget: the
   * server's rate limit counts frames, not bytes.
   */
  sendUpdate(update: Uint8Array): void {
    const socket = this.#socket();
    if (!socket?.handshakeSent) return;
    socket.outbox.push(update);
    if (socket.outbox.length === 1) queueMicrotask(() => this.#flushOutbox(socket));
  }

  #flushOutbox(socket: Socket): void {
    const updates = socket.outbox;
    socket.outbox = [];
    // Dropped with its socket: the next socket's syncStep2 carries whatever is stored.
    if (updates.length === 0 || this.#socket() !== socket) return;
    const merged = updates.length === 1 ? updates[0]! : Y.mergeUpdates(updates);
    for (const chunk of this.#split(merged)) this.#send(socket, encodeFrame({ type: 'update', update: chunk }));
  }

  #split(update: Uint8Array): Uint8Array[] {
    const budget = (this.#opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES) - FRAME_HEADER_BYTES;
    return update.byteLength <= budget ? [update] : splitUpdate(update, budget, roomSplitOptions(this.#peer.doc));
  }

  /** Closes for good; releases timers and remote awareness states. */
  close(): void {
    const phase = this.#phase;
    if (phase.kind === 'closed') return;
    if (phase.kind === 'socket') this.#endSocket(phase.socket, CloseCode.Normal, 'client closed');
    if (phase.kind === 'waiting') clearTimeout(phase.timer);
    this.#opts.awareness?.off('update', this.#onAwarenessUpdate);
    this.#enter({ kind: 'closed' });
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
    if (this.#phase.kind !== 'fetchingToken') return;
    let ws: WebSocketLike;
    try {
      ws = this.#opts.openSocket(this.#peer.roomId, token);
    } catch (error) {
      this.#events.emit('error', new ClientError('network', `cannot open a WebSocket: ${String(error)}`, error));
      this.#scheduleRetry();
      return;
    }
    ws.binaryType = 'arraybuffer';
    const socket: Socket = { ws, handshakeSent: false, synced: false, serverState: null, answered: false, lastError: null, outbox: [], silence: null };
    this.#enter({ kind: 'socket', socket });
    ws.onopen = () => {
      if (this.#socket() !== socket) return;
      this.#touch(socket);
      this.#send(socket, encodeFrame({ type: 'syncStep1', stateVector: Y.encodeStateVector(this.#peer.doc) }));
      const awareness = this.#opts.awareness;
      if (awareness && awareness.getLocalState() !== null) {
        this.#send(socket, encodeFrame({ type: 'awareness', update: awarenessProtocol.encodeAwarenessUpdate(awareness, [awareness.clientID]) }));
      }
    };
    ws.onmessage = (event) => {
      if (this.#socket() !== socket) return;
      this.#touch(socket);
      const bytes = toBytes(event.data);
      if (!bytes) return this.#malformed(socket, 'a text frame');
      const pacer = this.#opts.pacer;
      if (!pacer) return this.#receive(socket, bytes);
      // In arrival order, later; what arrives for a socket closed meanwhile is dropped with it.
      pacer.run(() => {
        if (this.#socket() === socket) this.#receive(socket, bytes);
      });
    };
    ws.onclose = (event) => {
      if (this.#socket() !== socket) return;
      this.#lost(socket, event.code, event.reason);
    };
    ws.onerror = () => {
      // A close event always follows; it carries the code that decides what to do.
    };
  }

  #receive(socket: Socket, bytes: Uint8Array): void {
    const decoded = decodeServerFrame(bytes);
    if (!decoded.ok) return this.#malformed(socket, decoded.reason);
    const message = decoded.frame;
    // Types this client does not know (future extensions, y-websocket auth) are ignored.
    if (message === null) return;
    try {
      switch (message.type) {
        case 'syncStep1':
        case 'syncStep2':
        case 'update':
          this.#receiveSync(socket, message);
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
          socket.lastError = { code: message.code, reason: message.reason };
          return;
        case 'recent': {
          // A picture of the newest messages for a first paint: a bad one is reported and ignored.
          const page = parseRecentPage(message.page);
          if (page.ok) this.#events.emit('recent', page.messages);
          else this.#events.emit('error', new ClientError('invalid_data', `from the server: ${page.reason}`));
          return;
        }
        default: {
          const unknown: never = message;
          throw new Error(`unhandled frame ${JSON.stringify(unknown)}`);
        }
      }
    } catch (error) {
      this.#malformed(socket, error instanceof Error ? error.message : String(error));
    }
  }

  #receiveSync(socket: Socket, message: SyncFrame): void {
    switch (message.type) {
      case 'syncStep1':
        socket.serverState ??= Y.decodeStateVector(message.stateVector);
        void this.#answerStep1(socket, message.stateVector);
        return;
      case 'syncStep2':
        this.#peer.applyRemote(message.update, this);
        socket.answered = true;
        this.#checkSynced(socket);
        return;
      case 'update':
        this.#peer.applyRemote(message.update, this);
        this.#checkSynced(socket);
        return;
      default: {
        const unknown: never = message;
        throw new Error(`unhandled sync frame ${JSON.stringify(unknown)}`);
      }
    }
  }

  /** Synced once answered and holding everything of the server's greeting (see Socket.synced). */
  #checkSynced(socket: Socket): void {
    if (socket.synced || !socket.answered) return;
    const store = this.#peer.doc.store;
    for (const [client, clock] of socket.serverState ?? []) if (Y.getState(store, client) < clock) return;
    socket.synced = true;
    this.#attempt = 0;
    this.#renewToken = false;
    this.#refreshState();
    this.#events.emit('synced', undefined);
  }

  /** Our syncStep2: only what is stored on the device, and only after the client id check. */
  async #answerStep1(socket: Socket, encodedStateVector: Uint8Array): Promise<void> {
    try {
      await this.#peer.checkServerState(Y.decodeStateVector(encodedStateVector));
      await this.#peer.whenStored();
    } catch (error) {
      this.#events.emit('error', error instanceof ClientError ? error : new ClientError('storage_failed', String(error), error));
      if (this.#socket() === socket) {
        this.#endSocket(socket, CloseCode.Normal, 'local storage failed');
        this.#scheduleRetry();
      }
      return;
    }
    if (this.#socket() !== socket || socket.ws.readyState !== WS_OPEN || this.#holding) return;
    // Synchronous from here: whenStored() resolved with nothing queued, so the document holds
    // exactly what is stored, and every later local write is sent live after its own storing.
    const diff = Y.encodeStateAsUpdate(this.#peer.doc, encodedStateVector);
    // The first part answers as syncStep2; the rest follow as updates, in the order the split
    // needs (the server takes both alike, each judged against what the earlier ones added).
    this.#split(diff).forEach((chunk, i) => {
      this.#send(socket, encodeFrame(i === 0 ? { type: 'syncStep2', update: chunk } : { type: 'update', update: chunk }));
    });
    socket.handshakeSent = true;
  }

  /**
   * The socket closed, or this side gave up on it (then `closeWith` is the code it closes with):
   * decide from the close code what comes next.
   */
  #lost(socket: Socket, code: number, reason: string, closeWith: number = CloseCode.Normal): void {
    this.#endSocket(socket, closeWith, reason);
    const error = socket.lastError;
    switch (true) {
      case code === CloseCode.Unauthorized:
        // Renew at once; a second 4401 in a row (renewal did not help) backs off like any failure.
        if (!this.#renewToken) {
          this.#renewToken = true;
          this.#enter({ kind: 'idle' });
          this.connect();
          return;
        }
        break;
      case code === CloseCode.Forbidden || code === CloseCode.RoomNotFound: {
        // What this device had not sent will never be: its messages show as not sent, and why.
        const why = error?.reason ?? reason;
        this.#peer.refused('access_denied', why || 'no access to this room');
        this.#stop(new ClientError('access_denied', `${code}: ${why}`));
        return;
      }
      case code === CloseCode.UpdateRefused || code === CloseCode.DocumentTooLarge: {
        // Sending the same change again would be refused again: keep reading, hold the writes.
        const refusal = error ?? { code: 'update_refused', reason: reason || 'the server refused an update' };
        this.#peer.refused(refusal.code, refusal.reason);
        this.#holding = true;
        this.#events.emit('refused', new ClientError('update_refused', `${refusal.code}: ${refusal.reason}`));
        break;
      }
      default:
        break;
    }
    this.#scheduleRetry();
  }

  #stop(error: ClientError): void {
    this.#enter({ kind: 'stopped', error });
    this.#events.emit('stopped', error);
  }

  #scheduleRetry(): void {
    const kind = this.#phase.kind;
    if (kind === 'closed' || kind === 'stopped' || kind === 'waiting') return;
    const delay = backoffDelay(this.#attempt++, this.#opts.backoff);
    const timer = setTimeout(() => {
      this.#enter({ kind: 'idle' });
      this.connect();
    }, delay);
    this.#enter({ kind: 'waiting', timer });
  }

  /** The server was heard on the socket: its silence is watched from now (watchSilence). */
  #touch(socket: Socket): void {
    socket.silence?.();
    socket.silence = watchSilence(socket.ws, this.#opts.silenceMs ?? DEFAULT_SILENCE_MS, () => {
      if (this.#socket() === socket) this.#lost(socket, CloseCode.GoingAway, SILENT_CLOSE_REASON);
    });
  }

  #malformed(socket: Socket, what: string): void {
    this.#events.emit('error', new ClientError('invalid_data', `malformed frame from the server: ${what}`));
    if (this.#socket() !== socket) return;
    this.#lost(socket, CloseCode.ProtocolError, 'malformed frame', CloseCode.ProtocolError);
  }

  /**
   * Lets go of a socket: its handlers and timer, the remote awareness states it brought, and the
   * socket itself (closed with `code`; a no-op on a socket already closed). Leaves the phase to
   * the caller.
   */
  #endSocket(socket: Socket, code: number, reason: string): void {
    socket.silence?.();
    socket.silence = null;
    socket.outbox = [];
    const { ws } = socket;
    ws.onopen = ws.onmessage = ws.onclose = null;
    // Closing a socket that is still connecting reports an error; with no handler `ws` throws it.
    ws.onerror = () => {};
    try {
      ws.close(code, reason);
    } catch {
      // Already closing.
    }
    this.#removeRemoteAwareness();
  }

  #socket(): Socket | null {
    return this.#phase.kind === 'socket' ? this.#phase.socket : null;
  }

  #send(socket: Socket, bytes: Uint8Array): void {
    if (socket.ws.readyState === WS_OPEN) socket.ws.send(bytes);
  }

  #enter(phase: Phase): void {
    this.#phase = phase;
    this.#refreshState();
  }

  #refreshState(): void {
    const state = stateOf(this.#phase);
    if (this.#state === state) return;
    this.#state = state;
    this.#events.emit('state', state);
  }

  readonly #onAwarenessUpdate = (
    { added, updated, removed }: { added: number[]; updated: number[]; removed: number[] },
    origin: unknown,
  ): void => {
    const awareness = this.#opts.awareness;
    const socket = this.#socket();
    if (!awareness || origin === this || !socket?.synced) return;
    const own = added.concat(updated, removed).filter((id) => id === awareness.clientID);
    if (own.length > 0) this.#send(socket, encodeFrame({ type: 'awareness', update: awarenessProtocol.encodeAwarenessUpdate(awareness, own) }));
  };

  #removeRemoteAwareness(): void {
    const awareness = this.#opts.awareness;
    if (!awareness) return;
    const remote = [...awareness.getStates().keys()].filter((id) => id !== awareness.clientID);
    if (remote.length > 0) awarenessProtocol.removeAwarenessStates(awareness, remote, this);
  }
}
