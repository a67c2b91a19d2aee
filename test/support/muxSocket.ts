import * as Y from 'yjs';
import { decodeServerFrame, encodeFrame, type ServerFrame } from '../../shared/protocol/frames.ts';
import { type ControlFrame, decodeMuxFrame, encodeControl, encodeOnChannel } from '../../shared/protocol/muxFrames.ts';
import { MUX_SYNC_PATH } from '../../shared/protocol/endpoints.ts';
import { RawSocket } from './rawSocket.ts';
import type { TestServer, TestUser } from './serverHarness.ts';

type Closed = Extract<ControlFrame, { type: 'closed' }>;

/** A multiplexed sync socket driven frame by frame: opens channels, sends and awaits their frames. */
export class MuxSocket {
  readonly raw: RawSocket;
  #next = 1;

  private constructor(raw: RawSocket) {
    this.raw = raw;
  }

  static open(t: TestServer, user: TestUser): Promise<MuxSocket> {
    return MuxSocket.connect(t.url, user.token);
  }

  /** A multiplexed socket to the server at `baseUrl` (http://HOST:PORT), as the holder of `token`. */
  static async connect(baseUrl: string, token: string): Promise<MuxSocket> {
    return new MuxSocket(await RawSocket.open(`${baseUrl.replace(/^http/, 'ws')}${MUX_SYNC_PATH}?token=${encodeURIComponent(token)}`));
  }

  /** Opens a channel for `document` (the next channel number unless given); returns its number. */
  openChannel(document: string, channel = this.#next): number {
    this.#next = Math.max(this.#next, channel + 1);
    this.raw.send(encodeControl({ type: 'open', channel, document }));
    return channel;
  }

  closeChannel(channel: number): void {
    this.raw.send(encodeControl({ type: 'close', channel }));
  }

  send(channel: number, frame: Uint8Array): void {
    this.raw.send(encodeOnChannel(channel, frame));
  }

  sendUpdate(channel: number, update: Uint8Array): void {
    this.send(channel, encodeFrame({ type: 'update', update }));
  }

  /** The frames received on a channel so far, decoded. */
  framesOn(channel: number): ServerFrame[] {
    return this.raw.received.flatMap((m) => frameOn(channel, m) ?? []);
  }

  /** The first frame on `channel` (already received or future) for which `predicate` holds. */
  async next(channel: number, predicate: (frame: ServerFrame) => boolean = () => true): Promise<ServerFrame> {
    const m = await this.raw.next((bytes) => {
      const frame = frameOn(channel, bytes);
      return frame !== null && predicate(frame);
    });
    return frameOn(channel, m) as ServerFrame;
  }

  /** The `closed` control frame for `channel` (already received or future). */
  async closed(channel: number): Promise<Closed> {
    const m = await this.raw.next((bytes) => closedOf(bytes)?.channel === channel);
    return closedOf(m) as Closed;
  }

  /** Opens a channel and completes the handshake with an empty state: resolves with the room's whole state. */
  async join(document: string): Promise<{ channel: number; doc: Y.Doc }> {
    const channel = this.openChannel(document);
    this.send(channel, encodeFrame({ type: 'syncStep1', stateVector: Y.encodeStateVector(new Y.Doc()) }));
    const step2 = await this.next(channel, (f) => f.type === 'syncStep2');
    const doc = new Y.Doc();
    if (step2.type === 'syncStep2') Y.applyUpdate(doc, step2.update);
    return { channel, doc };
  }

  /** Applies the channel's updates to `doc` (those received so far, then as they come) until `done(doc)`. */
  async untilDoc(channel: number, doc: Y.Doc, done: (doc: Y.Doc) => boolean): Promise<void> {
    const applied = new Set<Uint8Array>();
    const apply = (bytes: Uint8Array): void => {
      applied.add(bytes);
      const frame = frameOn(channel, bytes);
      if (frame?.type === 'update' || frame?.type === 'syncStep2') Y.applyUpdate(doc, frame.update);
    };
    for (const bytes of this.raw.received) apply(bytes);
    while (!done(doc)) apply(await this.raw.next((bytes) => !applied.has(bytes) && frameOn(channel, bytes) !== null));
  }

  close(): void {
    this.raw.close();
  }
}

function frameOn(channel: number, bytes: Uint8Array): ServerFrame | null {
  const mux = decodeMuxFrame(bytes);
  if (!mux.ok || !('body' in mux.frame) || mux.frame.channel !== channel) return null;
  const decoded = decodeServerFrame(mux.frame.body);
  return decoded.ok ? decoded.frame : null;
}

function closedOf(bytes: Uint8Array): Closed | null {
  const mux = decodeMuxFrame(bytes);
  if (!mux.ok || !('control' in mux.frame) || mux.frame.control.type !== 'closed') return null;
  return mux.frame.control;
}
