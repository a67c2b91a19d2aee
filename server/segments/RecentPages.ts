import type { Logger } from '../log.ts';
import type { Room } from '../sync/Room.ts';
import type { RoomPeer } from '../sync/RoomPeer.ts';
import type { RoomRegistry } from '../sync/RoomRegistry.ts';
import { encodeFrame } from '../../shared/protocol/frames.ts';
import { RECENT_PAGE_SIZE, encodeRecentPage } from '../../shared/protocol/recentPage.ts';
import type { MessageView } from '../../shared/roomDoc/messageView.ts';
import { SegmentIndex, parseDocName } from '../../shared/roomDoc/segments.ts';
import { newestPage, newestPageLoaded } from './roomHistory.ts';

/**
 * Sends a segmented room's newest messages (a `recent` frame, shared/protocol/recentPage.ts) to
 * every Parley peer that joins the room's head, right after its greeting: the device can show
 * them before the head (up to 5,000 tombstones of the messages a conversion moved out, ~270 KB)
 * and the segments that hold them (thousands of messages each) have synced; this is a screen
 * of them. When the segments holding them are loaded (a room in use) the frame goes out in the
 * same turn as the greeting, so before the head's step 2; else once they are loaded. Stock
 * clients (no `parley=1`) get nothing new.
 */
export class RecentPages {
  readonly #registry: RoomRegistry;
  readonly #logger: Logger;

  constructor(deps: { registry: RoomRegistry; logger: Logger }) {
    this.#registry = deps.registry;
    this.#logger = deps.logger;
  }

  /** A document was loaded: a head greets its Parley peers with a recent page too (while segmented). */
  roomLoaded(room: Room): void {
    if (parseDocName(room.roomId)?.segment !== null) return;
    room.onJoined((peer) => {
      if (peer.parley && SegmentIndex.of(room.doc).segmented) this.#send(room, peer);
    });
  }

  #send(head: Room, peer: RoomPeer): void {
    const loaded = newestPageLoaded(this.#registry, head, head.roomId, RECENT_PAGE_SIZE);
    if (loaded) return this.#sendPage(head, peer, loaded);
    newestPage(this.#registry, head, head.roomId, RECENT_PAGE_SIZE).then(
      (messages) => this.#sendPage(head, peer, messages),
      // Only a picture for a faster first paint: the segments still sync.
      (err: unknown) => this.#logger.warn({ room: head.roomId, err }, 'the recent page could not be read'),
    );
  }

  #sendPage(head: Room, peer: RoomPeer, messages: readonly MessageView[]): void {
    if (head.has(peer)) peer.send(encodeFrame({ type: 'recent', page: encodeRecentPage(messages) }));
  }
}
