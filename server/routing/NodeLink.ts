import { WebSocket, type RawData } from 'ws';
import type { AuthUser } from '../auth/TokenVerifier.ts';
import type { ForwardHandlers, ForwardedChannel } from '../sync/ChannelRouter.ts';
import type { Logger } from '../log.ts';
import { CloseCode } from '../../shared/protocol/closeCodes.ts';
import { type ControlFrame, MAX_CHANNEL, decodeMuxFrame, encodeControl, encodeOnChannel } from '../../shared/protocol/muxFrames.ts';
import { frameBytes } from '../ws/SocketEndpoint.ts';
import { heartbeatVerdict } from '../ws/heartbeatVerdict.ts';
import { INTERNAL_LINK_PATH } from '../../shared/protocol/endpoints.ts';


export interface NodeLinkOptions {
  /** The owner's internal base URL (`http://host:port`, NodeRegistry). */
  readonly url: string;
  /** PARLEY_CLUSTER_SECRET, sent as a bearer token. */
  readonly secret: string;
  readonly logger: Logger;
  /** Frames waiting in the link's send buffer past this mean the owner stopped reading: the link is dropped. */
  readonly maxBufferedBytes?: number;
  /** Called for each frame forwarded on a channel, either way, documents' and commands' (metrics). */
  readonly onFrame?: () => void;
  /**
   * A ping goes to the owner this often; one not answered by the next is a dead link (a paused
   * or partitioned owner whose TCP connection did not break), as is a handshake not done in twice
   * this. HEARTBEAT_MS by default.
   */
  readonly heartbeatMs?: number;
}

/** 2.5 s: a silent owner is given up within 5 s, half the default lease TTL, so its clients reopen and are routed afresh. */
export const HEARTBEAT_MS = 2_500;

/** 64 MiB: many clients' frames share one link; one client's limit is far lower. */
const DEFAULT_MAX_BUFFERED = 64 * 1024 * 1024;

/**
 * The edge's end of the link to one other node (docs/scale-out.md, "Routing"): one WebSocket to
 * its `/ws/internal`, speaking the multiplexed protocol, on which the edge opens a channel per
 * forwarded document with `openAs`, as the user it authenticated. Frames go both ways unchanged;
 * the owner serves the channel exactly as a local one (membership check, validator, acks after its
 * commit, relay, limits).
 *
 * Channel numbers grow and are never reused on a link, as on any mux socket. Frames sent before
 * the socket opens wait in order. When the link is lost (the owner stopped or died, the network
 * dropped it) every channel on it is closed with OwnerUnavailable, so their clients reopen them and
 * are routed afresh; a link is never reconnected in place (NodeLinks opens a new one), because the
 * owner's peers of the old link are gone with it.
 */
export class NodeLink {
  readonly #ws: WebSocket;
  readonly #opts: NodeLinkOptions;
  readonly #channels = new Map<number, ForwardHandlers>();
  readonly #waiting: Uint8Array[] = [];
  #nextChannel = 1;
  #lost = false;
  /** Called for each frame forwarded, either way (metrics). */
  readonly #onFrame: () => void;
  readonly #lostListeners = new Set<() => void>();
  #heartbeat: NodeJS.Timeout | null = null;
  readonly #heartbeatMs: number;
  /** The owner answered the last ping, or sent anything since (or no ping was sent yet). */
  #answered = true;
  /** When the last ping went, and what this end had not sent yet then (heartbeatVerdict). */
  #pingedAt = 0;
  #bufferedAtPing: number | undefined = undefined;

  constructor(opts: NodeLinkOptions) {
    this.#opts = opts;
    this.#onFrame = opts.onFrame ?? (() => {});
    const url = new URL(INTERNAL_LINK_PATH, opts.url.replace(/^http/, 'ws'));
    const heartbeatMs = opts.heartbeatMs ?? HEARTBEAT_MS;
    this.#heartbeatMs = heartbeatMs;
    this.#ws = new WebSocket(url, { headers: { authorization: `Bearer ${opts.secret}` }, perMessageDeflate: false, handshakeTimeout: 2 * heartbeatMs });
    this.#ws.binaryType = 'nodebuffer';
    this.#ws.on('open', () => {
      for (const frame of this.#waiting.splice(0)) this.#ws.send(frame);
      this.#heartbeat = setInterval(() => this.#beat(), heartbeatMs);
      this.#heartbeat.unref();
    });
    // A pong waits behind every frame the owner already queued for this link: any frame from it says it is alive.
    this.#ws.on('pong', () => {
      this.#answered = true;
    });
    this.#ws.on('message', (data: RawData, isBinary: boolean) => {
      this.#answered = true;
      this.#receive(data, isBinary);
    });
    this.#ws.on('close', (code, reason) => this.#lose(`link closed (${code}${reason.length > 0 ? `: ${reason.toString()}` : ''})`));
    this.#ws.on('error', (err) => {
      opts.logger.warn({ err, url: opts.url }, 'node link failed');
      this.#lose(`link failed: ${err.message}`);
    });
  }

  /** True once the link is lost: it takes no more channels. */
  get lost(): boolean {
    return this.#lost;
  }

  /** Runs `listener` once when the link is lost (at once if it is). */
  onLost(listener: () => void): void {
    if (this.#lost) listener();
    else this.#lostListeners.add(listener);
  }

  /** Opens `document` on the owner as `user`; its frames and end reach `handlers`. */
  openAs(document: string, user: AuthUser, handlers: ForwardHandlers): ForwardedChannel {
    return this.#open((channel) => ({ type: 'openAs', channel, document, userId: user.id, userName: user.name }), handlers);
  }

  /**
   * Opens a command channel on the owner as `user` (the commands of one bot connection whose rooms
   * that node owns): its bodies are the command protocol's JSON text, both ways.
   */
  openCommandsAs(user: AuthUser, handlers: ForwardHandlers): ForwardedChannel {
    return this.#open((channel) => ({ type: 'openCommandsAs', channel, userId: user.id, userName: user.name }), handlers);
  }

  #open(control: (channel: number) => ControlFrame, handlers: ForwardHandlers): ForwardedChannel {
    if (this.#lost || this.#nextChannel > MAX_CHANNEL) {
      // Told after the caller has its channel object, as a close from the owner would be.
      queueMicrotask(() => handlers.closed(CloseCode.OwnerUnavailable, 'OwnerUnavailable', 'the link to the owner is gone'));
      return { send: () => {}, close: () => {} };
    }
    const channel = this.#nextChannel++;
    this.#channels.set(channel, handlers);
    this.#send(encodeControl(control(channel)));
    return {
      send: (body) => {
        if (this.#channels.get(channel) !== handlers) return;
        this.#onFrame();
        this.#send(encodeOnChannel(channel, body));
      },
      close: () => {
        if (this.#channels.get(channel) !== handlers) return;
        this.#channels.delete(channel);
        this.#send(encodeControl({ type: 'close', channel }));
      },
    };
  }

  /** Closes the link (this node stops); every channel on it is told OwnerUnavailable. */
  close(): void {
    this.#lose('this node is stopping');
    this.#ws.close(CloseCode.GoingAway);
  }

  #send(frame: Uint8Array): void {
    if (this.#lost) return;
    if (this.#ws.readyState === WebSocket.CONNECTING) return void this.#waiting.push(frame);
    if (this.#ws.bufferedAmount > (this.#opts.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED)) {
      this.#opts.logger.warn({ url: this.#opts.url, buffered: this.#ws.bufferedAmount }, 'node link dropped: the owner reads too slowly');
      this.#lose('the owner reads too slowly');
      this.#ws.terminate();
      return;
    }
    this.#ws.send(frame);
  }

  #receive(data: RawData, isBinary: boolean): void {
    if (this.#lost) return;
    const decoded = isBinary ? decodeMuxFrame(frameBytes(data)) : { ok: false as const, reason: 'a text frame' };
    if (!decoded.ok) {
      this.#opts.logger.error({ url: this.#opts.url, reason: decoded.reason }, 'node link: malformed frame from the owner');
      this.#lose(`malformed frame from the owner: ${decoded.reason}`);
      this.#ws.close(CloseCode.ProtocolError);
      return;
    }
    const { frame } = decoded;
    if (!('control' in frame)) {
      const handlers = this.#channels.get(frame.channel);
      if (!handlers) return;
      this.#onFrame();
      return handlers.frame(frame.body);
    }
    const control = frame.control;
    if (control.type !== 'closed') return;
    const handlers = this.#channels.get(control.channel);
    if (!handlers) return;
    this.#channels.delete(control.channel);
    handlers.closed(control.code, control.errorCode, control.reason);
  }

  /**
   * One heartbeat: the owner must have answered the last ping or sent something since, unless
   * this end is still draining what it queued for the owner, or the heartbeat itself came late
   * (this node's event loop stalled): the verdict client sockets get (heartbeatVerdict).
   */
  #beat(): void {
    if (this.#lost) return;
    const now = performance.now();
    const buffered = this.#ws.bufferedAmount;
    if (heartbeatVerdict(this.#answered, buffered, this.#bufferedAtPing, now - this.#pingedAt, this.#heartbeatMs) === 'terminate') {
      this.#opts.logger.warn({ url: this.#opts.url }, 'node link dropped: the owner did not answer a ping');
      this.#lose('the owner did not answer a ping');
      this.#ws.terminate();
      return;
    }
    this.#answered = false;
    this.#pingedAt = now;
    this.#bufferedAtPing = buffered;
    this.#ws.ping();
  }

  #lose(reason: string): void {
    if (this.#lost) return;
    this.#lost = true;
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    this.#heartbeat = null;
    this.#waiting.length = 0;
    const channels = [...this.#channels.values()];
    this.#channels.clear();
    for (const handlers of channels) handlers.closed(CloseCode.OwnerUnavailable, 'OwnerUnavailable', `the owner is unavailable: ${reason}`);
    for (const listener of this.#lostListeners) listener();
    this.#lostListeners.clear();
  }
}
