import { encodeFrame } from '../../shared/protocol/frames.ts';
import { decodeMuxFrame, encodeControl, encodeOnChannel, MAX_CHANNEL, type ControlFrame } from '../../shared/protocol/muxFrames.ts';
import { muxSyncUrl, syncUrl } from '../../shared/protocol/endpoints.ts';
import { CloseCode } from '../../shared/protocol/closeCodes.ts';
import { SILENT_CLOSE_REASON, WS_OPEN, type WebSocketConstructor, type WebSocketLike } from './WebSocketLike.ts';

/** Opens the socket a RoomConnection speaks to one document on: its own, or a channel of a shared one. */
export type SocketOpener = (document: string, token: string) => WebSocketLike;

/** One socket per document on /sync/<roomId> (what stock y-websocket clients do too). */
export function socketPerDocument(serverUrl: string, WebSocket: WebSocketConstructor): SocketOpener {
  return (document, token) => new WebSocket(syncUrl(serverUrl, document, token));
}

const CONNECTING = 0;
const CLOSED = 3;
/** How long the shared socket stays open with no channel, so that closing and reopening a room reuses it. */
const DEFAULT_LINGER_MS = 5_000;

/**
 * One WebSocket per device on the multiplexed endpoint (/ws/sync, shared/protocol/muxFrames.ts),
 * handing out one channel per document. Each channel behaves as a WebSocket of its own
 * (WebSocketLike), so a RoomConnection runs unchanged on it: it opens once the shared socket is
 * open and the channel is asked for; it closes with the server's code when the server ends the
 * channel (after an error frame, as a socket of its own would get), and with the socket's code
 * when the shared socket closes, which ends every channel at once. The shared socket opens with
 * the token of the channel that needed it; it closes once it carried no channel for `lingerMs`.
 */
export class SyncSocket {
  readonly #serverUrl: string;
  readonly #WebSocket: WebSocketConstructor;
  readonly #lingerMs: number;
  #ws: WebSocketLike | null = null;
  readonly #channels = new Map<number, Channel>();
  #nextChannel = 1;
  #linger: ReturnType<typeof setTimeout> | null = null;
  #closed = false;
  /** When the shared socket last received a frame (performance.now()). */
  #heardAt = 0;

  constructor(opts: { serverUrl: string; WebSocket: WebSocketConstructor; lingerMs?: number }) {
    this.#serverUrl = opts.serverUrl;
    this.#WebSocket = opts.WebSocket;
    this.#lingerMs = opts.lingerMs ?? DEFAULT_LINGER_MS;
  }

  /** The SocketOpener for RoomConnections: a channel of this socket per document. */
  readonly opener: SocketOpener = (document, token) => this.channel(document, token);

  /** Channels open or opening now. */
  get channelCount(): number {
    return this.#channels.size;
  }

  channel(document: string, token: string): WebSocketLike {
    if (this.#closed) throw new Error('the sync socket is closed');
    if (this.#linger) clearTimeout(this.#linger);
    this.#linger = null;
    // Channel numbers never repeat on one socket; past the last one, the next socket starts over.
    if (this.#nextChannel > MAX_CHANNEL) this.reconnect();
    const channel = new Channel(this, this.#nextChannel++, document);
    this.#channels.set(channel.number, channel);
    const ws = this.#ws ?? this.#open(token);
    if (ws.readyState === WS_OPEN) channel.opened();
    return channel;
  }

  /**
   * Drops the shared socket (after a network change it may be dead without knowing it): every
   * channel closes, and their connections reconnect on a new socket.
   */
  reconnect(): void {
    const ws = this.#ws;
    if (!ws) return;
    this.#drop(ws, CloseCode.GoingAway, 'reconnecting');
    try {
      ws.close(CloseCode.Normal, 'reconnecting');
    } catch {
      // Already closing.
    }
  }

  /** Closes the shared socket and every channel for good. */
  close(): void {
    this.#closed = true;
    if (this.#linger) clearTimeout(this.#linger);
    this.reconnect();
  }

  /** A channel's frame, on the shared socket. */
  send(channel: Channel, frame: Uint8Array): void {
    this.#ws?.send(encodeOnChannel(channel.number, frame));
  }

  /** The client closes a channel: the server is told, the socket lingers if it was the last. */
  release(channel: Channel): void {
    if (this.#channels.get(channel.number) !== channel) return;
    this.#channels.delete(channel.number);
    if (channel.readyState === WS_OPEN && this.#ws?.readyState === WS_OPEN) this.#ws.send(encodeControl({ type: 'close', channel: channel.number }));
    this.#lingerIfIdle();
  }

  #open(token: string): WebSocketLike {
    const ws = new this.#WebSocket(muxSyncUrl(this.#serverUrl, token));
    ws.binaryType = 'arraybuffer';
    this.#ws = ws;
    ws.onopen = () => {
      if (this.#ws !== ws) return;
      for (const channel of this.#channels.values()) channel.opened();
    };
    ws.onmessage = (event) => {
      if (this.#ws !== ws) return;
      this.#heardAt = performance.now();
      this.#receive(ws, event.data);
    };
    ws.onclose = (event) => {
      if (this.#ws === ws) this.#drop(ws, event.code, event.reason);
    };
    ws.onerror = () => {
      // A close event follows; it carries the code.
    };
    return ws;
  }

  /** Whether the shared socket received anything in the last `ms` (Channel.heardWithin). */
  heardWithin(ms: number): boolean {
    return this.#ws?.readyState === WS_OPEN && performance.now() - this.#heardAt < ms;
  }

  /** Opens a channel on the server (once the socket is open). */
  announce(channel: Channel): void {
    this.#ws?.send(encodeControl({ type: 'open', channel: channel.number, document: channel.document }));
  }

  #receive(ws: WebSocketLike, data: unknown): void {
    const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : null;
    const decoded = bytes ? decodeMuxFrame(bytes) : null;
    if (!decoded?.ok) {
      // The server speaks mux frames only: anything else means this socket cannot be trusted.
      this.#drop(ws, CloseCode.ProtocolError, 'malformed frame from the server');
      ws.close(CloseCode.ProtocolError, 'malformed frame');
      return;
    }
    const { frame } = decoded;
    if ('control' in frame) return this.#control(frame.control);
    // Frames of a channel this side closed already are dropped.
    this.#channels.get(frame.channel)?.deliver(frame.body);
  }

  #control(control: ControlFrame): void {
    if (control.type !== 'closed') return;
    const channel = this.#channels.get(control.channel);
    if (!channel) return;
    this.#channels.delete(control.channel);
    // As a socket of its own would: the error frame first, then the close.
    if (control.code >= 4000 || control.code === CloseCode.ProtocolError) channel.deliver(encodeFrame({ type: 'error', code: control.errorCode, reason: control.reason }));
    channel.closedBy(control.code, control.reason);
    this.#lingerIfIdle();
  }

  /** The shared socket is gone: every channel closes with its code. */
  #drop(ws: WebSocketLike, code: number, reason: string): void {
    if (this.#ws !== ws) return;
    this.#ws = null;
    ws.onopen = ws.onmessage = ws.onclose = null;
    ws.onerror = () => {};
    this.#nextChannel = 1;
    const channels = [...this.#channels.values()];
    this.#channels.clear();
    for (const channel of channels) channel.closedBy(code, reason);
  }

  #lingerIfIdle(): void {
    if (this.#channels.size > 0 || !this.#ws || this.#linger) return;
    this.#linger = setTimeout(() => {
      this.#linger = null;
      if (this.#channels.size === 0) this.reconnect();
    }, this.#lingerMs);
  }
}

/** One document's channel, as a WebSocket of its own. */
class Channel implements WebSocketLike {
  binaryType = 'arraybuffer';
  readyState = CONNECTING;
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  readonly #socket: SyncSocket;
  readonly number: number;
  readonly document: string;

  constructor(socket: SyncSocket, number: number, document: string) {
    this.#socket = socket;
    this.number = number;
    this.document = document;
  }

  heardWithin(ms: number): boolean {
    return this.readyState === WS_OPEN && this.#socket.heardWithin(ms);
  }

  /** The shared socket is open: the channel opens on the server and here. */
  opened(): void {
    if (this.readyState !== CONNECTING) return;
    this.#socket.announce(this);
    this.readyState = WS_OPEN;
    // Like a socket's open event, never inside the call that made the channel.
    queueMicrotask(() => {
      if (this.readyState === WS_OPEN) this.onopen?.({});
    });
  }

  deliver(body: Uint8Array): void {
    if (this.readyState === WS_OPEN) this.onmessage?.({ data: body });
  }

  closedBy(code: number, reason: string): void {
    if (this.readyState === CLOSED) return;
    this.readyState = CLOSED;
    this.onclose?.({ code, reason });
  }

  send(data: Uint8Array): void {
    if (this.readyState === WS_OPEN) this.#socket.send(this, data);
  }

  close(_code?: number, reason?: string): void {
    if (this.readyState === CLOSED) return;
    this.#socket.release(this);
    this.readyState = CLOSED;
    // The server speaks on every room channel at least every 15 s: silence means the shared socket is dead.
    if (reason === SILENT_CLOSE_REASON) this.#socket.reconnect();
  }
}
