import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { Logger } from '../log.ts';
import { parseJsonMessage } from './parseJsonMessage.ts';

/**
 * A change to the directory that other nodes must act on (docs/scale-out.md, "What crosses
 * nodes"): who may hold which document, and what their room lists show.
 */
export const DirectoryEventSchema = z.discriminatedUnion('type', [
  /** That user's membership was added, reactivated, deactivated or changed role. */
  z.object({ type: z.literal('membership'), roomId: z.string().min(1), userId: z.string().min(1) }),
  /** The room itself was created or changed (name, metadata, activated or deactivated). */
  z.object({ type: z.literal('room'), roomId: z.string().min(1) }),
  /** That member changed their own setting of the room (mute). */
  z.object({ type: z.literal('settings'), roomId: z.string().min(1), userId: z.string().min(1) }),
]);
export type DirectoryEvent = z.infer<typeof DirectoryEventSchema>;

const STREAM = 'parley:directory';
/** Entries the stream keeps (approximately): a node further behind than this was disconnected, and resyncs. */
const STREAM_LENGTH = 100_000;
/** How long one XREAD waits for entries before it asks again. */
const BLOCK_MS = 1_000;
/** Events kept for publishing while Redis is out of reach; beyond it the oldest go (readers resync after an outage anyway). */
const MAX_UNSENT = 10_000;

export interface DirectoryEventsOptions {
  /** Publishes (XADD and retries). */
  readonly redis: Redis;
  /** Reads (XREAD BLOCK holds its connection, so it needs one of its own). */
  readonly reader: Redis;
  readonly nodeId: string;
  readonly logger: Logger;
  /** Applies an event on this node: recheck connections, tell the user feed (the AccessNotifier's work). */
  readonly apply: (event: DirectoryEvent) => void;
  /**
   * Events may have been missed (the reader lost Redis for a while): this node must recheck
   * everything an event could have changed (every open connection's access, every room list).
   */
  readonly resync: () => void;
  /** Pause before retrying after a Redis error. */
  readonly retryMs?: number;
}

/**
 * Directory changes across nodes through one Redis stream: each node appends the changes it
 * commits and reads everyone's, from where it left off. A stream rather than pub/sub, because a
 * subscriber that reconnects misses what was published meanwhile, and a member removed on one
 * node must lose their connections on every node. The publishing node applies its own events at
 * once and skips them in the stream. While Redis is out of reach, events wait in memory (bounded)
 * and are sent when it answers again; a reader that lost Redis resyncs when it is back, since what
 * it missed may be gone (Redis restarted, or the stream was trimmed).
 */
export class DirectoryEvents {
  readonly #opts: DirectoryEventsOptions;
  readonly #unsent: DirectoryEvent[] = [];
  /** The newest entry read (null: not known yet, ask Redis for the stream's end). */
  #lastId: string | null = null;
  /** The reader's connection closed since the last read: what was published meanwhile may be lost. */
  #disconnected = false;
  #sending = false;
  #closed = false;
  readonly #reading: Promise<void>;
  readonly #ready: Promise<void>;
  #markReady: () => void = () => {};
  /** Waiting for every published event to be in the stream (flushed). */
  #whenSent: Array<() => void> = [];

  constructor(opts: DirectoryEventsOptions) {
    this.#opts = opts;
    opts.reader.on('close', () => (this.#disconnected = true));
    this.#ready = new Promise((resolve) => (this.#markReady = resolve));
    this.#reading = this.#readLoop();
  }

  /** A change this node committed: applied here now, and on every other node through the stream. */
  publish(event: DirectoryEvent): void {
    this.#apply(event);
    this.#unsent.push(event);
    if (this.#unsent.length > MAX_UNSENT) this.#unsent.splice(0, this.#unsent.length - MAX_UNSENT);
    void this.#send();
  }

  /** Resolves once this node reads the stream: every event published from then on reaches it. */
  get ready(): Promise<void> {
    return this.#ready;
  }

  /** Resolves once every event published so far is in the stream (tests, shutdown). */
  flushed(): Promise<void> {
    if (this.#unsent.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#whenSent.push(resolve));
  }

  /** Stops reading (the blocked XREAD is cut by disconnecting the reader) and sends nothing more. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#opts.reader.disconnect();
    await this.#reading;
  }

  #apply(event: DirectoryEvent): void {
    try {
      this.#opts.apply(event);
    } catch (err) {
      this.#opts.logger.error({ err, event }, 'directory event failed to apply');
    }
  }

  async #send(): Promise<void> {
    if (this.#sending) return;
    this.#sending = true;
    try {
      while (this.#unsent.length > 0 && !this.#closed) {
        const event = this.#unsent[0]!;
        try {
          await this.#opts.redis.xadd(STREAM, 'MAXLEN', '~', STREAM_LENGTH, '*', 'node', this.#opts.nodeId, 'event', JSON.stringify(event));
          this.#unsent.shift();
        } catch (err) {
          this.#opts.logger.warn({ err, waiting: this.#unsent.length }, 'directory event not published yet; retrying');
          await this.#pause();
        }
      }
    } finally {
      this.#sending = false;
    }
    if (this.#unsent.length === 0) for (const resolve of this.#whenSent.splice(0)) resolve();
  }

  async #readLoop(): Promise<void> {
    const { reader, logger } = this.#opts;
    let failing = false;
    while (!this.#closed) {
      let reply: [string, [string, string[]][]][] | null;
      try {
        // Never '$' in the loop: entries added between two reads would be skipped.
        if (this.#lastId === null) {
          this.#lastId = (await reader.xrevrange(STREAM, '+', '-', 'COUNT', 1))[0]?.[0] ?? '0-0';
          this.#markReady();
        }
        reply = (await reader.xread('BLOCK', BLOCK_MS, 'STREAMS', STREAM, this.#lastId)) as [string, [string, string[]][]][] | null;
      } catch (err) {
        if (this.#closed) return;
        if (!failing) logger.warn({ err }, 'directory events: Redis out of reach; resyncing when it answers');
        failing = true;
        await this.#pause();
        continue;
      }
      failing = false;
      if (this.#disconnected) {
        // The connection dropped (ioredis reconnected, maybe resending this read): what was
        // published meanwhile may be lost, a restarted Redis has no stream at all. Check everything.
        this.#disconnected = false;
        this.#lastId = null;
        this.#resync();
        continue;
      }
      for (const [, entries] of reply ?? []) {
        for (const [id, fields] of entries) {
          this.#lastId = id;
          this.#deliver(fields);
        }
      }
    }
  }

  #resync(): void {
    try {
      this.#opts.resync();
    } catch (err) {
      this.#opts.logger.error({ err }, 'directory events: resync failed');
    }
  }

  /** One stream entry: ['node', id, 'event', json]; malformed entries are logged and skipped. */
  #deliver(fields: readonly string[]): void {
    const node = fields[fields.indexOf('node') + 1];
    if (node === this.#opts.nodeId) return;
    const event = parseJsonMessage(DirectoryEventSchema, fields[fields.indexOf('event') + 1]);
    if (!event) {
      this.#opts.logger.warn({ fields }, 'directory events: malformed entry skipped');
      return;
    }
    this.#apply(event);
  }

  #pause(): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, this.#opts.retryMs ?? 500).unref());
  }
}
