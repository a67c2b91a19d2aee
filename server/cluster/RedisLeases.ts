import type { Redis } from 'ioredis';

/** Who holds a document's lease, as Redis has it. */
export interface LeaseHolder {
  readonly nodeId: string;
  /** Milliseconds the lease has left unless renewed. */
  readonly ttlMs: number;
}

const PREFIX = 'parley:lease:';

// Each script reads and writes one key atomically (Redis runs a script to its end before
// anything else), so two nodes can never both see a lease as theirs.
/** KEYS[1] lease; ARGV node, ttl. Takes a free lease, or extends one the node holds already. 1 taken, 0 held by another. */
const ACQUIRE = `
local holder = redis.call('GET', KEYS[1])
if holder == false then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0`;
/** KEYS[1] lease; ARGV node, ttl. Extends the lease only if the node still holds it. */
const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0`;
/** KEYS[1] lease; ARGV node. Deletes the lease only if the node holds it. */
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`;

/**
 * Document leases in Redis: at most one node holds a document's lease at a time, for `ttlMs`
 * unless it renews (docs/scale-out.md). A lease decides who should own a document and where other
 * nodes route its frames; it does not by itself keep a deposed owner from writing (a node paused
 * past its lease does not know it lost it): that is the fencing token the new owner takes in
 * PostgreSQL before it loads (PgUpdateStore.takeFence), which every commit checks.
 */
export class RedisLeases {
  readonly #redis: Redis;
  readonly #nodeId: string;
  readonly #ttlMs: number;

  constructor(redis: Redis, nodeId: string, ttlMs: number) {
    if (nodeId.length === 0) throw new Error('RedisLeases: a node id is required');
    this.#redis = redis;
    this.#nodeId = nodeId;
    this.#ttlMs = ttlMs;
  }

  get nodeId(): string {
    return this.#nodeId;
  }

  get ttlMs(): number {
    return this.#ttlMs;
  }

  /** Takes the document's lease if it is free or already this node's; false while another node holds it. */
  async acquire(docName: string): Promise<boolean> {
    return (await this.#redis.eval(ACQUIRE, 1, PREFIX + docName, this.#nodeId, this.#ttlMs)) === 1;
  }

  /** Extends this node's lease; false when it is no longer this node's (expired, or taken since). */
  async renew(docName: string): Promise<boolean> {
    return (await this.#redis.eval(RENEW, 1, PREFIX + docName, this.#nodeId, this.#ttlMs)) === 1;
  }

  /** Gives the lease up if it is still this node's (a document unloaded): another node may take it at once. */
  async release(docName: string): Promise<void> {
    await this.#redis.eval(RELEASE, 1, PREFIX + docName, this.#nodeId);
  }

  /** The lease's holder, or null when nobody holds it. */
  async holder(docName: string): Promise<LeaseHolder | null> {
    const replies = await this.#redis.multi().get(PREFIX + docName).pttl(PREFIX + docName).exec();
    const nodeId = replies?.[0]?.[1];
    const ttlMs = replies?.[1]?.[1];
    return typeof nodeId === 'string' && typeof ttlMs === 'number' ? { nodeId, ttlMs: Math.max(0, ttlMs) } : null;
  }
}
