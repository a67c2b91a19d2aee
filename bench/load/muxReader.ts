import { createHash } from 'node:crypto';
import * as Y from 'yjs';
import { BenchSocket } from './benchSocket.ts';
import { decodeServerFrame, encodeFrame } from '../../shared/protocol/frames.ts';
import { decodeMuxFrame, encodeControl, encodeOnChannel, type MuxFrame } from '../../shared/protocol/muxFrames.ts';

/*
 * A lean reader of Parley's multiplexed sync endpoint for benchmarks that hold many documents
 * open (bench/scenarios/manyLargeRooms.ts): a channel per document, synced as the SDK counts it
 * synced, nothing applied.
 */

/** Longest a document may take to sync. */
const SYNC_TIMEOUT_MS = 60_000;
const EMPTY_STATE_VECTOR = Y.encodeStateVector(new Y.Doc());
const EMPTY_UPDATE = Y.encodeStateAsUpdate(new Y.Doc());

/** The clock each client's structs reach in an update, parsed once per distinct update (keyed by its SHA-1). */
export class UpdateClocks {
  readonly #parsed = new Map<string, Map<number, number>>();

  reached(update: Uint8Array): Map<number, number> {
    const key = createHash('sha1').update(update).digest('base64');
    let to = this.#parsed.get(key);
    if (!to) {
      to = Y.parseUpdateMeta(update).to;
      this.#parsed.set(key, to);
    }
    return to;
  }
}

/** A document open on a channel, and how far its sync is. */
interface Channel {
  readonly document: string;
  /** The server's greeting step 1: its state vector when the channel opened. */
  greeting: Map<number, number> | null;
  /** Our step 1 was answered (its step 2 came). */
  answered: boolean;
  /** The clock the received updates reach, per client. */
  readonly reached: Map<number, number>;
  synced: boolean;
  readonly resolve: () => void;
  readonly timer: NodeJS.Timeout;
}

const holdsGreeting = (c: Channel): boolean =>
  c.answered && c.greeting !== null && [...c.greeting].every(([client, clock]) => (c.reached.get(client) ?? 0) >= clock);

/**
 * One multiplexed sync socket of a reader: opens documents on channels, holds them open, and
 * fails on anything the server ends (a channel closed, an error frame, the socket closed).
 */
export class MuxReader {
  receivedBytes = 0;
  readonly #socket: BenchSocket;
  readonly #clocks: UpdateClocks;
  readonly #channels = new Map<number, Channel>();
  #next = 1;

  private constructor(socket: BenchSocket, clocks: UpdateClocks) {
    this.#socket = socket;
    this.#clocks = clocks;
    socket.onFrame = (data) => this.#receive(data);
  }

  static async open(serverUrl: string, token: string, label: string, clocks: UpdateClocks): Promise<MuxReader> {
    return new MuxReader(await BenchSocket.open(serverUrl, token, label), clocks);
  }

  get label(): string {
    return this.#socket.label;
  }

  get failed(): Promise<never> {
    return this.#socket.failed;
  }

  /** Opens each document on a channel of its own with an empty state vector; resolves once all are synced. */
  sync(documents: readonly string[]): Promise<void> {
    if (this.#socket.closing) return Promise.reject(new Error(`${this.label}: closed`));
    return Promise.race([Promise.all(documents.map((d) => this.#syncOne(d))).then(() => undefined), this.failed]);
  }

  /** Closes the socket (and every channel on it); resolves once closed. */
  close(): Promise<void> {
    for (const channel of this.#channels.values()) clearTimeout(channel.timer);
    return this.#socket.close();
  }

  #syncOne(document: string): Promise<void> {
    const number = this.#next++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${this.label}: ${document} not synced within ${SYNC_TIMEOUT_MS / 1000} s (greeting ${channel.greeting ? 'came' : 'missing'}, step 2 ${channel.answered ? 'came' : 'missing'})`)),
        SYNC_TIMEOUT_MS,
      );
      const channel: Channel = { document, greeting: null, answered: false, reached: new Map(), synced: false, resolve, timer };
      this.#channels.set(number, channel);
      this.#socket.send(encodeControl({ type: 'open', channel: number, document }));
      this.#send(number, encodeFrame({ type: 'syncStep1', stateVector: EMPTY_STATE_VECTOR }));
    });
  }

  #send(channel: number, frame: Uint8Array): void {
    this.#socket.send(encodeOnChannel(channel, frame));
  }

  #receive(data: Buffer): void {
    this.receivedBytes += data.byteLength;
    const mux = decodeMuxFrame(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    if (!mux.ok) return this.#socket.fail(new Error(`${this.label}: undecodable frame from the server: ${mux.reason}`));
    this.#onFrame(mux.frame);
  }

  #onFrame(frame: MuxFrame): void {
    if ('control' in frame) {
      const { control } = frame;
      if (control.type !== 'closed') return;
      const document = this.#channels.get(control.channel)?.document ?? `channel ${control.channel}`;
      return this.#socket.fail(new Error(`${this.label}: the server closed ${document} (${control.code} ${control.errorCode}: ${control.reason})`));
    }
    const channel = this.#channels.get(frame.channel);
    if (!channel) return;
    const decoded = decodeServerFrame(frame.body);
    if (!decoded.ok) return this.#socket.fail(new Error(`${this.label}: undecodable frame on ${channel.document}: ${decoded.reason}`));
    const message = decoded.frame;
    switch (message?.type) {
      case 'syncStep1':
        channel.greeting ??= Y.decodeStateVector(message.stateVector);
        this.#send(frame.channel, encodeFrame({ type: 'syncStep2', update: EMPTY_UPDATE }));
        break;
      case 'syncStep2':
        channel.answered = true;
        this.#reach(channel, message.update);
        break;
      case 'update':
        this.#reach(channel, message.update);
        break;
      case 'error':
        return this.#socket.fail(new Error(`${this.label}: server error on ${channel.document}: ${message.code}: ${message.reason}`));
      default:
        // Awareness (the server's presence entry), acks, the recent page: nothing a reader waits for.
        return;
    }
    if (channel.synced || !holdsGreeting(channel)) return;
    channel.synced = true;
    clearTimeout(channel.timer);
    channel.resolve();
  }

  #reach(channel: Channel, update: Uint8Array): void {
    for (const [client, clock] of this.#clocks.reached(update)) {
      if (clock > (channel.reached.get(client) ?? 0)) channel.reached.set(client, clock);
    }
  }
}
