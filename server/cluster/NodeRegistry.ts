import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { Logger } from '../log.ts';

const PREFIX = 'parley:node:';
/** What a node announces: where other nodes reach its internal endpoint. */
const NodeUrlSchema = z.url({ protocol: /^wss?$|^https?$/ });

export interface NodeRegistryOptions {
  readonly redis: Redis;
  readonly nodeId: string;
  /** Where other nodes reach this one (PARLEY_NODE_URL), e.g. ws://10.0.0.5:8787. */
  readonly url: string;
  readonly logger: Logger;
  /** How long an announcement lives unless renewed (renewed every third of it). */
  readonly ttlMs?: number;
}

/**
 * Which nodes are alive and where to reach them (docs/scale-out.md, "Routing"): each node keeps
 * `parley:node:<id>` = its internal URL with a TTL, renewed like a lease, and deleted when it stops.
 * A room's lease names its owner's id; this turns the id into an address. A node that dies stops
 * renewing, and its entry is gone after the TTL.
 */
export class NodeRegistry {
  readonly #opts: NodeRegistryOptions;
  readonly #ttlMs: number;
  #timer: NodeJS.Timeout | null = null;

  constructor(opts: NodeRegistryOptions) {
    NodeUrlSchema.parse(opts.url);
    this.#opts = opts;
    this.#ttlMs = opts.ttlMs ?? 10_000;
  }

  /** Announces this node now and keeps announcing it until `close`. */
  async start(): Promise<void> {
    await this.#announce();
    this.#timer ??= setInterval(() => void this.#announce().catch((err: unknown) => this.#opts.logger.warn({ err }, 'node registry: announcement failed')), Math.max(1, Math.floor(this.#ttlMs / 3)));
    this.#timer.unref();
  }

  /** Where `nodeId` is reached, or null when it is not alive (never announced, stopped, or silent past its TTL). */
  async urlOf(nodeId: string): Promise<string | null> {
    const raw = await this.#opts.redis.get(PREFIX + nodeId);
    if (raw === null) return null;
    const parsed = NodeUrlSchema.safeParse(raw);
    if (!parsed.success) {
      this.#opts.logger.warn({ peer: nodeId }, 'node registry: malformed address ignored');
      return null;
    }
    return parsed.data;
  }

  /** Stops announcing and removes this node's entry (a clean shutdown: nobody routes to it any more). */
  async close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#opts.redis.del(PREFIX + this.#opts.nodeId);
  }

  async #announce(): Promise<void> {
    await this.#opts.redis.set(PREFIX + this.#opts.nodeId, this.#opts.url, 'PX', this.#ttlMs);
  }
}
