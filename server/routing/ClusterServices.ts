import { Redis } from 'ioredis';
import type { ClusterSettings } from '../config.ts';
import type { Logger } from '../log.ts';
import { ClusterPresence } from '../cluster/ClusterPresence.ts';
import { ClusterFeed } from '../cluster/ClusterFeed.ts';
import { type DirectoryEvent, DirectoryEvents } from '../cluster/DirectoryEvents.ts';
import { NodeRegistry } from '../cluster/NodeRegistry.ts';
import { RedisLeases } from '../cluster/RedisLeases.ts';
import { type FenceSource, RoomOwnership } from '../cluster/RoomOwnership.ts';
import { ClusterRouter } from './ClusterRouter.ts';
import { NodeLinks } from './NodeLinks.ts';

export interface ClusterServicesOptions {
  readonly settings: ClusterSettings;
  readonly nodeId: string;
  readonly logger: Logger;
  /** Where fencing tokens come from (PgUpdateStore). */
  readonly fencing: FenceSource;
  /** Applies a directory change another node made (recheck connections, tell the user feed). */
  readonly applyDirectoryEvent: (event: DirectoryEvent) => void;
  /** Directory changes may have been missed: recheck everything they could have changed. */
  readonly resync: () => void;
  /** This node lost a room (its lease taken, its fence refused): close its documents' peers, unload them. */
  readonly onRoomLost: (roomId: string) => void;
}

/**
 * Everything a node of several needs beyond one node's server (docs/scale-out.md): room ownership
 * (leases in Redis, fences in PostgreSQL), where the other nodes are, the links to them and the
 * router that picks local or forwarded per channel, the directory's event stream, and who is online
 * across nodes. Three Redis connections: commands, the stream's blocking reader, and pub/sub.
 * Redis commands fail fast rather than queue while Redis is away: a channel that cannot be routed
 * is refused with OwnerUnavailable and reopened by its client, and the fence, not the lease,
 * decides whose writes are stored.
 */
export class ClusterServices {
  readonly ownership: RoomOwnership;
  readonly router: ClusterRouter;
  readonly links: NodeLinks;
  readonly events: DirectoryEvents;
  readonly presence: ClusterPresence;
  /** The user feed's live part: summaries and notifications for devices on other nodes. */
  readonly feed: ClusterFeed;
  /** Where the nodes are; announced once this node listens (start). */
  #registry: NodeRegistry | null = null;
  readonly #redis: Redis;
  readonly #reader: Redis;
  readonly #subscriber: Redis;
  readonly #opts: ClusterServicesOptions;

  constructor(opts: ClusterServicesOptions) {
    this.#opts = opts;
    const { settings, nodeId, logger } = opts;
    // The command client's replies (leases, the registry, publishing) are awaited: one that never
    // comes (a link that stalls without breaking) fails after a third of a lease, so renewals go on
    // and routing answers. The reader's and the subscriber's block by design.
    const client = (commandTimeoutMs?: number): Redis => {
      const redis = new Redis(settings.redisUrl, { maxRetriesPerRequest: 1, connectTimeout: 2_000, ...(commandTimeoutMs === undefined ? {} : { commandTimeout: commandTimeoutMs }) });
      // Reconnection is ioredis's; an error event without a listener would crash the process.
      redis.on('error', (err) => logger.debug({ err }, 'redis connection error'));
      return redis;
    };
    this.#redis = client(Math.max(500, Math.floor(settings.leaseTtlMs / 3)));
    this.#reader = client();
    this.#subscriber = client();
    this.ownership = new RoomOwnership({ leases: new RedisLeases(this.#redis, nodeId, settings.leaseTtlMs), fencing: opts.fencing, logger, onLost: opts.onRoomLost });
    this.links = new NodeLinks({
      urlOf: (id) => this.#registry?.urlOf(id) ?? Promise.resolve(null),
      secret: settings.secret,
      logger,
    });
    this.router = new ClusterRouter({ ownership: this.ownership, links: this.links });
    this.events = new DirectoryEvents({ redis: this.#redis, reader: this.#reader, nodeId, logger, apply: opts.applyDirectoryEvent, resync: opts.resync });
    this.presence = new ClusterPresence({ redis: this.#redis, subscriber: this.#subscriber, nodeId, logger });
    this.feed = new ClusterFeed({ redis: this.#redis, subscriber: this.#subscriber, nodeId, logger });
  }

  /** Announces this node at `url` (its own, or PARLEY_NODE_URL) once it listens, and waits for the stream reader. */
  async start(url: string): Promise<void> {
    const registry = new NodeRegistry({ redis: this.#redis, nodeId: this.#opts.nodeId, url: this.#opts.settings.nodeUrl ?? url, logger: this.#opts.logger, ttlMs: this.#opts.settings.leaseTtlMs });
    this.#registry = registry;
    await Promise.all([registry.start(), this.events.ready, this.presence.ready, this.feed.ready]);
  }

  /** Stops: links closed, leases released (after the documents were committed), the node unannounced, Redis let go. */
  async close(): Promise<void> {
    this.links.close();
    await this.ownership.close();
    await this.#registry?.close();
    await this.events.close();
    this.presence.close();
    for (const redis of [this.#redis, this.#reader, this.#subscriber]) redis.disconnect();
  }
}
