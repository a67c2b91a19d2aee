import type { Logger } from '../log.ts';
import type { Fences } from '../storage/UpdateStore.ts';
import type { RedisLeases } from './RedisLeases.ts';

/** Where fencing tokens come from: the shared database (PgUpdateStore.takeFence). */
export interface FenceSource {
  takeFence(docName: string): Promise<number>;
}

/** The outcome of asking to own a document: owned with its fencing token, or who holds it (null: unknown, try again). */
export type Claim = { readonly owned: true; readonly fence: number } | { readonly owned: false; readonly holder: string | null };

export interface DocumentOwnershipOptions {
  readonly leases: RedisLeases;
  readonly fencing: FenceSource;
  readonly logger: Logger;
  /** This node no longer owns `docName` (its lease was taken, or its fence refused): unload it, its clients reconnect. */
  readonly onLost?: (docName: string) => void;
}

/**
 * The documents this node owns (docs/scale-out.md, "One owner per document"). To own one, a node
 * takes its lease in Redis, then a new fencing token in PostgreSQL, before it loads the document;
 * it renews every lease a third of the way through its TTL and releases it when the document
 * unloads. Every commit carries the tokens (`fences`), so a node that lost a document while it
 * was not looking (paused past its lease, cut off from Redis) has its next write refused, and
 * `lost` then forgets the document. Redis being unreachable does not end ownership by itself:
 * the fence, not the lease, decides whose writes are stored.
 */
export class DocumentOwnership {
  readonly #opts: DocumentOwnershipOptions;
  readonly #owned = new Map<string, number>();
  readonly #claiming = new Map<string, Promise<Claim>>();
  #timer: NodeJS.Timeout | null = null;
  #renewing = false;
  #closed = false;

  constructor(opts: DocumentOwnershipOptions) {
    this.#opts = opts;
  }

  get nodeId(): string {
    return this.#opts.leases.nodeId;
  }

  /** Documents owned now. */
  get size(): number {
    return this.#owned.size;
  }

  owns(docName: string): boolean {
    return this.#owned.has(docName);
  }

  /** Owns `docName` if nobody else does (concurrent claims of one document share one attempt). */
  claim(docName: string): Promise<Claim> {
    const fence = this.#owned.get(docName);
    if (fence !== undefined) return Promise.resolve({ owned: true, fence });
    let claiming = this.#claiming.get(docName);
    if (!claiming) {
      claiming = this.#claim(docName).finally(() => this.#claiming.delete(docName));
      this.#claiming.set(docName, claiming);
    }
    return claiming;
  }

  /** The tokens of the documents of a commit that this node owns (one it does not own is left out, and the store refuses it). */
  fences(docNames: Iterable<string>): Fences {
    const fences = new Map<string, number>();
    for (const docName of docNames) {
      const fence = this.#owned.get(docName);
      if (fence !== undefined) fences.set(docName, fence);
    }
    return fences;
  }

  /** The document unloaded: its lease goes at once, so another node need not wait for the TTL. */
  async release(docName: string): Promise<void> {
    if (!this.#owned.delete(docName)) return;
    try {
      await this.#opts.leases.release(docName);
    } catch (err) {
      this.#opts.logger.warn({ doc: docName, err }, 'lease release failed; it expires on its own');
    }
  }

  /** Another node owns the document now (a refused fence, a lease taken): forget it and say so. */
  lost(docName: string): void {
    if (!this.#owned.delete(docName)) return;
    this.#opts.logger.warn({ doc: docName }, 'document lost to another node');
    this.#opts.onLost?.(docName);
  }

  /** Stops renewing and releases every lease (shutdown, after the documents were committed). */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await Promise.all([...this.#owned.keys()].map((docName) => this.release(docName)));
  }

  async #claim(docName: string): Promise<Claim> {
    const { leases, fencing } = this.#opts;
    if (this.#closed) return { owned: false, holder: null };
    if (!(await leases.acquire(docName))) return { owned: false, holder: (await leases.holder(docName))?.nodeId ?? null };
    // The fence after the lease and before the load: what an earlier owner committed is in what this node loads.
    const fence = await fencing.takeFence(docName);
    this.#owned.set(docName, fence);
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
        [...this.#owned.keys()].map(async (docName) => {
          try {
            if ((await leases.renew(docName)) || (await leases.acquire(docName))) return;
            this.lost(docName);
          } catch (err) {
            // Redis out of reach: keep the document; the fence still guards every write.
            logger.warn({ doc: docName, err }, 'lease renewal failed');
          }
        }),
      );
    } finally {
      this.#renewing = false;
    }
  }
}
