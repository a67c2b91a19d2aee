import * as Y from 'yjs';
import { BenchSocket } from './benchSocket.ts';
import { decodeServerFrame, encodeFrame } from '../../shared/protocol/frames.ts';
import { decodeMuxFrame, encodeControl, encodeOnChannel } from '../../shared/protocol/muxFrames.ts';
import { roomMaps } from '../../shared/roomDoc/layout.ts';
import { createMessage } from '../../shared/roomDoc/messageOps.ts';

/*
 * A lean client of Parley's multiplexed sync endpoint for benchmarks that time messages across
 * many rooms (bench/scenarios/clusterScaling.ts): a writer per room makes real messages in a
 * replica of its own (createMessage, as the SDK does) and learns from acknowledgements which are
 * durable; observers apply nothing and read from each update's metadata how far the writer's
 * clock reached, so one load-generator core can time thousands of deliveries a second.
 */

const EMPTY_STATE_VECTOR = Y.encodeStateVector(new Y.Doc());

/** A room's writer and what it sent: every observer of the room reads its timeline. */
export class RoomWriter {
  readonly roomId: string;
  readonly #doc = new Y.Doc();
  readonly #userId: string;
  /** The writer's clock after message i. */
  readonly clocks: number[] = [];
  /** When message i was due (open loop) or sent (closed loop), performance.now(). */
  readonly due: number[] = [];
  /** When message i was acknowledged, performance.now(). */
  readonly ackedAt: number[] = [];
  #acked = 0;
  #waiters: Array<() => void> = [];
  #channel: { readonly mux: BenchMux; readonly number: number } | null = null;

  constructor(roomId: string, userId: string) {
    this.roomId = roomId;
    this.#userId = userId;
    roomMaps(this.#doc);
  }

  get clientId(): number {
    return this.#doc.clientID;
  }

  /** Messages acknowledged so far (a prefix: acknowledgements cover everything before them). */
  get acked(): number {
    return this.#acked;
  }

  get sent(): number {
    return this.clocks.length;
  }

  attach(mux: BenchMux, number: number): void {
    this.#channel = { mux, number };
  }

  /** Writes one message and sends it; `due` is when it was meant to go (open loop), default now. */
  send(content: string, due = performance.now()): void {
    const channel = this.#channel;
    if (!channel) throw new Error(`writer of ${this.roomId} is not on a socket`);
    const before = Y.encodeStateVector(this.#doc);
    createMessage(this.#doc, { userId: this.#userId, role: 'member' }, { content });
    this.clocks.push(Y.getState(this.#doc.store, this.#doc.clientID));
    this.due.push(due);
    channel.mux.send(channel.number, encodeFrame({ type: 'update', update: Y.encodeStateAsUpdate(this.#doc, before) }));
  }

  /** An acknowledgement's state vector came. */
  onAck(stateVector: Uint8Array): void {
    const reached = Y.decodeStateVector(stateVector).get(this.#doc.clientID) ?? 0;
    const now = performance.now();
    while (this.#acked < this.clocks.length && (this.clocks[this.#acked] ?? Infinity) <= reached) this.ackedAt[this.#acked++] = now;
    for (const wake of this.#waiters.splice(0)) wake();
  }

  /** Resolves once at least `count` messages are acknowledged. */
  async untilAcked(count: number): Promise<void> {
    while (this.#acked < count) await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }
}

/** One observer's view of a room: each message of its writer timed as it arrives. */
export class RoomObserver {
  readonly #writer: RoomWriter;
  readonly #onDelivery: (latencyMs: number, at: number, index: number) => void;
  #seen = 0;

  constructor(writer: RoomWriter, onDelivery: (latencyMs: number, at: number, index: number) => void) {
    this.#writer = writer;
    this.#onDelivery = onDelivery;
  }

  onUpdate(update: Uint8Array): void {
    const reached = Y.parseUpdateMeta(update).to.get(this.#writer.clientId);
    if (reached === undefined) return;
    const now = performance.now();
    const { clocks, due } = this.#writer;
    while (this.#seen < clocks.length && (clocks[this.#seen] ?? Infinity) <= reached) {
      this.#onDelivery(now - (due[this.#seen] ?? now), now, this.#seen);
      this.#seen++;
    }
  }
}

type ChannelUser = { readonly kind: 'writer'; readonly writer: RoomWriter } | { readonly kind: 'observer'; readonly observer: RoomObserver };

interface OpenChannel {
  readonly user: ChannelUser;
  synced: boolean;
  readonly onSynced: () => void;
}

/** One multiplexed socket: a channel per room it writes to or observes. Fails on anything the server ends. */
export class BenchMux {
  readonly #socket: BenchSocket;
  readonly #channels = new Map<number, OpenChannel>();
  #next = 1;

  private constructor(socket: BenchSocket) {
    this.#socket = socket;
    socket.onFrame = (data) => this.#receive(data);
  }

  static async open(httpUrl: string, token: string, label: string): Promise<BenchMux> {
    return new BenchMux(await BenchSocket.open(httpUrl, token, label));
  }

  get label(): string {
    return this.#socket.label;
  }

  get failed(): Promise<never> {
    return this.#socket.failed;
  }

  /** Opens the writer's room on a channel; resolves once synced. */
  write(writer: RoomWriter): Promise<void> {
    const number = this.#next++;
    writer.attach(this, number);
    return this.#open(writer.roomId, number, { kind: 'writer', writer });
  }

  /** Opens the room as an observer of its writer; resolves once synced. */
  observe(writer: RoomWriter, observer: RoomObserver): Promise<void> {
    return this.#open(writer.roomId, this.#next++, { kind: 'observer', observer });
  }

  send(channel: number, frame: Uint8Array): void {
    this.#socket.send(encodeOnChannel(channel, frame));
  }

  close(): Promise<void> {
    return this.#socket.close();
  }

  #open(document: string, number: number, user: ChannelUser): Promise<void> {
    const synced = new Promise<void>((resolve) => this.#channels.set(number, { user, synced: false, onSynced: resolve }));
    this.#socket.send(encodeControl({ type: 'open', channel: number, document }));
    this.send(number, encodeFrame({ type: 'syncStep1', stateVector: EMPTY_STATE_VECTOR }));
    return Promise.race([synced, this.failed]);
  }

  #receive(data: Buffer): void {
    const mux = decodeMuxFrame(data);
    if (!mux.ok) return this.#socket.fail(new Error(`${this.label}: malformed frame: ${mux.reason}`));
    const { frame } = mux;
    if ('control' in frame) {
      if (frame.control.type === 'closed') this.#socket.fail(new Error(`${this.label}: channel ${frame.control.channel} closed (${frame.control.code} ${frame.control.reason})`));
      return;
    }
    const channel = this.#channels.get(frame.channel);
    if (!channel) return;
    const decoded = decodeServerFrame(frame.body);
    if (!decoded.ok || decoded.frame === null) return;
    const f = decoded.frame;
    if (f.type === 'syncStep2' && !channel.synced) {
      channel.synced = true;
      channel.onSynced();
    } else if (f.type === 'ack' && channel.user.kind === 'writer') {
      channel.user.writer.onAck(f.stateVector);
    } else if (f.type === 'update' && channel.user.kind === 'observer') {
      channel.user.observer.onUpdate(f.update);
    } else if (f.type === 'error') {
      this.#socket.fail(new Error(`${this.label}: error frame ${JSON.stringify(f)}`));
    }
  }
}
