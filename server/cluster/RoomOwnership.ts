import type { Logger } from '../log.ts';
import type { Fences } from '../storage/UpdateStore.ts';
import { roomOfDoc } from '../../shared/roomDoc/segments.ts';
import type { RedisLeases } from './RedisLeases.ts';

/** Where fencing tokens come from: the shared database (PgUpdateStore.takeFence). */
export interface FenceSource {
  takeFence(roomId: string): Promise<number>;
}

/** The outcome of asking to own a room: owned with its fencing token, or who holds it (null: unknown, try again). */
export type Claim = { readonly owned: true; readonly fence: number } | { readonly owned: false; readonly holder: string | null };

export interface RoomOwnershipOptions {
  readonly leases: RedisLeases;
  readonly fencing: FenceSource;
  readonly logger: Logger;
  /** This node no longer owns `roomId` (its lease was taken, or its fence refused): unload its documents, their clients reconnect. */
  readonly onLost?: (roomId: string) => void;
}

/**
 * The rooms this node owns (docs/scale-out.md, "One owner per room"): a room's head and all its
 * segments together, since the server writes across them (moving messages into segments, thread
 * summaries into the head). To own a room, a node takes its lease in Redis, then a new fencing
 * token in PostgreSQL, before it loads any of its documents; it renews every lease a third of the
 * way through its TTL and releases it when the room's documents are unloaded. Every commit
 * carries the tokens (`fences`), so a node that lost a room while it was not looking (paused past
 * its lease, cut off from Redis) has its next write refused, and `lost` then forgets the room.
 * Redis being unreachable does not end ownership by itself: the fence, not the lease, decides
 * whose writes are stored.
 */
export class RoomOwnership {
  readonly #opts: RoomOwnershipOptions;
  readonly #owned = new Map<string, number>();
  readonly #claiming = new Map<string, Promise<Claim>>();
  #timer: NodeJS.Timeout | null = null;
  #renewing = false;
  #closed = false;
  #taken = 0;
  #lost = 0;

  constructor(opts: RoomOwnershipOptions) {
    this.#opts = opts;
  }

  get nodeId(): string {
    return this.#opts.leases.nodeId;
  }

  /** Rooms taken since this node started (metrics). */
  get taken(): number {
    return this.#taken;
  }

  /** Rooms lost to another node since this node started (metrics). */
  get lostCount(): number {
    return this.#lost;
  }

  /** Rooms owned now. */
  get size(): number {
    return this.#owned.size;
  }

  owns(roomId: string): boolean {
    return this.#owned.has(roomId);
  }

  /** Owns `roomId` if nobody else does (concurrent claims of one room share one attempt). */
  claim(roomId: string): Promise<Claim> {
    const fence = this.#owned.get(roomId);
    if (fence !== undefined) return Promise.resolve({ owned: true, fence });
    let claiming = this.#claiming.get(roomId);
    if (!claiming) {
      claiming = this.#claim(roomId).finally(() => this.#claiming.delete(roomId));
      this.#claiming.set(roomId, claiming);
    }
    return claiming;
  }

  /** The tokens of the rooms of a commit's documents that this node owns (a room it does not own is left out, and the store refuses it). */
  fences(docNames: Iterable<string>): Fences {
    const fences = new Map<string, number>();
    for (const docName of docNames) {
      const roomId = roomOfDoc(docName);
      const fence = this.#owned.get(roomId);
      if (fence !== undefined) fences.set(roomId, fence);
    }
    return fences;
  }

  /** The room's documents unloaded: its lease goes at once, so another node need not wait for the TTL. */
  async release(roomId: string): Promise<void> {
    if (!this.#owned.delete(roomId)) return;
    try {
      await this.#opts.leases.release(roomId);
    } catch (err) {
      this.#opts.logger.warn({ room: roomId, err }, 'lease release failed; it expires on its own');
    }
  }

  /** Another node owns the room now (a refused fence, a lease taken): forget it and say so. */
  lost(roomId: string): void {
    if (!this.#owned.delete(roomId)) return;
    this.#lost++;
    this.#opts.logger.warn({ room: roomId }, 'room lost to another node');
    this.#opts.onLost?.(roomId);
  }

  /** Stops renewing and releases every lease (shutdown, after the documents were committed). */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await Promise.all([...this.#owned.keys()].map((roomId) => this.release(roomId)));
  }

  async #claim(roomId: string): Promise<Claim> {
    const { leases, fencing } = this.#opts;
    if (this.#closed) return { owned: false, holder: null };
    if (!(await leases.acquire(roomId))) return { owned: false, holder: (await leases.holder(roomId))?.nodeId ?? null };
    // The fence after the lease and before the load: what an earlier owner committed is in what this node loads.
    const fence = await fencing.takeFence(roomId);
    this.#owned.set(roomId, fence);
    this.#taken++;
    this.#timer ??= setInterval(() => void this.renewNow(), Math.max(1, Math.floor(leases.ttlMs / 3))).unref();
    return { owned: true, fence };
  }

  /**
   * Renews every lease this node holds (the timer calls it every third of the TTL). A lease that
   * expired while nobody took it (Redis restarted) is taken again; one another node holds now is lost.
   */
  async renewNow(): Promise<void> {
    if (this.#renewing) return;
    this.#renewing = true;
    const { leases, logger } = this.#opts;
    try {
      await Promise.all(
        [...this.#owned.keys()].map(async (roomId) => {
          try {
            if ((await leases.renew(roomId)) || (await leases.acquire(roomId))) return;
            this.lost(roomId);
          } catch (err) {
            // Redis out of reach: keep the room; the fence still guards every write.
            logger.warn({ room: roomId, err }, 'lease renewal failed');
          }
        }),
      );
    } finally {
      this.#renewing = false;
    }
  }
}
