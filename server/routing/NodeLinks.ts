import type { Logger } from '../log.ts';
import { NodeLink } from './NodeLink.ts';

export interface NodeLinksOptions {
  /** The internal URL of a live node, or null (NodeRegistry.urlOf). */
  readonly urlOf: (nodeId: string) => Promise<string | null>;
  /** PARLEY_CLUSTER_SECRET. */
  readonly secret: string;
  readonly logger: Logger;
}

/**
 * This node's links to the others, one per node, opened on first use: a link that was lost is
 * replaced by a new one at the next use (its channels were closed with OwnerUnavailable and their
 * clients reopen them).
 */
export class NodeLinks {
  readonly #opts: NodeLinksOptions;
  readonly #links = new Map<string, NodeLink>();
  #closed = false;
  #forwarded = 0;

  constructor(opts: NodeLinksOptions) {
    this.#opts = opts;
  }

  /** The link to `nodeId`, or null when that node is not known to be alive. */
  async to(nodeId: string): Promise<NodeLink | null> {
    const current = this.#links.get(nodeId);
    if (current && !current.lost) return current;
    const url = await this.#opts.urlOf(nodeId);
    if (url === null || this.#closed) return null;
    // Another caller may have linked while the URL was looked up.
    const raced = this.#links.get(nodeId);
    if (raced && !raced.lost) return raced;
    const link = new NodeLink({ url, secret: this.#opts.secret, logger: this.#opts.logger, onFrame: () => this.#forwarded++ });
    this.#links.set(nodeId, link);
    link.onLost(() => {
      if (this.#links.get(nodeId) === link) this.#links.delete(nodeId);
    });
    return link;
  }

  /** Frames forwarded through every link so far, both ways (metrics). */
  get forwardedFrames(): number {
    return this.#forwarded;
  }

  /** Links open now (tests, metrics). */
  get size(): number {
    return this.#links.size;
  }

  /** Closes every link (this node stops). */
  close(): void {
    this.#closed = true;
    for (const link of [...this.#links.values()]) link.close();
    this.#links.clear();
  }
}
