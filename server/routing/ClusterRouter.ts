import type { RoomOwnership } from '../cluster/RoomOwnership.ts';
import type { ChannelRoute, ChannelRouter } from '../sync/ChannelRouter.ts';
import { roomOfDoc } from '../../shared/roomDoc/segments.ts';
import type { NodeLinks } from './NodeLinks.ts';

const LOCAL: ChannelRoute = { kind: 'local' };

/**
 * Routes a document's channel to the owner of its room (docs/scale-out.md): this node when it owns
 * the room or can claim it (lease, then fencing token), else the lease's holder through the link to
 * it. A holder that is not reachable (it died and its lease has not expired yet) gives
 * `unavailable`: the client reopens with backoff, and once the lease expires the room is claimed
 * by whichever node the client reached.
 */
export class ClusterRouter implements ChannelRouter {
  readonly #ownership: RoomOwnership;
  readonly #links: NodeLinks;

  constructor(deps: { ownership: RoomOwnership; links: NodeLinks }) {
    this.#ownership = deps.ownership;
    this.#links = deps.links;
  }

  async route(docName: string): Promise<ChannelRoute> {
    const roomId = roomOfDoc(docName);
    if (this.#ownership.owns(roomId)) return LOCAL;
    const claim = await this.#ownership.claim(roomId);
    if (claim.owned) return LOCAL;
    const owner = claim.holder;
    if (owner === null || owner === this.#ownership.nodeId) return { kind: 'unavailable', reason: 'the room has no reachable owner' };
    const link = await this.#links.to(owner);
    if (!link) return { kind: 'unavailable', reason: `the room's owner (${owner}) is not reachable` };
    return {
      kind: 'remote',
      owner,
      open: (user, handlers) => link.openAs(docName, user, handlers),
      openCommands: (user, handlers) => link.openCommandsAs(user, handlers),
    };
  }
}
