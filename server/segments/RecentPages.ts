import type { Logger } from '../log.ts';
import type { Room } from '../sync/Room.ts';
import type { RoomPeer } from '../sync/RoomPeer.ts';
import type { RoomRegistry } from '../sync/RoomRegistry.ts';
import { encodeFrame } from '../../shared/protocol/frames.ts';
import { RECENT_PAGE_SIZE, encodeRecentPage } from '../../shared/protocol/recentPage.ts';
import type { MessageView } from '../../shared/roomDoc/messageView.ts';
import { SegmentIndex, parseDocName, segmentDocName } from '../../shared/roomDoc/segments.ts';
import { newestPageLoaded } from './roomHistory.ts';
import { withPin } from '../../shared/roomDoc/pinReads.ts';
import type { StoredStateReader } from './StoredStateReader.ts';

/**
 * Sends a segmented room's newest messages (a `recent` frame, shared/protocol/recentPage.ts) to
 * every Parley peer that joins the room's head, right after its greeting: the device can show
 * them before the head (up to 5,000 tombstones of the messages a conversion moved out, ~270 KB)
 * and the segments that hold them (thousands of messages each) have synced; this is a screen
 * of them. When the segments holding them are loaded (a room in use), or the page was read for
 * an earlier joiner, the frame goes out in the same turn as the greeting, so before the head's
 * step 2; else once the storage worker has read them. Stock clients (no `parley=1`) get nothing new.
 */
export class RecentPages {
  readonly #registry: RoomRegistry;
  readonly #logger: Logger;
  readonly #reader: StoredStateReader;
  /** Pages read from storage (or being read), per room, until any of its documents commits a change (or its head unloads). */
  readonly #read = new Map<string, MessageView[] | Promise<MessageView[]>>();

  constructor(deps: { registry: RoomRegistry; logger: Logger; reader: StoredStateReader }) {
    this.#registry = deps.registry;
    this.#logger = deps.logger;
    this.#reader = deps.reader;
  }

  /** A document was loaded: a head greets its Parley peers with a recent page too (while segmented). */
  roomLoaded(room: Room): void {
    const parsed = parseDocName(room.roomId);
    if (!parsed) return;
    room.onCommit((updates) => {
      if (updates.length > 0) this.#read.delete(parsed.roomId);
    });
    if (parsed.segment !== null) return;
    room.onJoined((peer) => {
      if (peer.parley && SegmentIndex.of(room.doc).segmented) this.#send(room, peer);
    });
  }

  roomUnloaded(docName: string): void {
    const parsed = parseDocName(docName);
    if (parsed?.segment === null) this.#read.delete(parsed.roomId);
  }

  #send(head: Room, peer: RoomPeer): void {
    const loaded = newestPageLoaded(this.#registry, head, head.roomId, RECENT_PAGE_SIZE);
    if (loaded) return this.#sendPage(head, peer, loaded);
    const read = this.#fromStorage(head);
    // Read before for another joiner: in the greeting's turn too.
    if (!(read instanceof Promise)) return this.#sendPage(head, peer, read);
    read.then(
      (messages) => this.#sendPage(head, peer, messages),
      // Only a picture for a faster first paint: the segments still sync.
      (err: unknown) => this.#logger.warn({ room: head.roomId, err }, 'the recent page could not be read'),
    );
  }

  /**
   * The page as stored, read by the storage worker (segments are thousands of messages: reading
   * them here would hold the event loop, and keep them in memory), shared by the joiners until
   * the room changes.
   */
  #fromStorage(head: Room): MessageView[] | Promise<MessageView[]> {
    const roomId = head.roomId;
    const known = this.#read.get(roomId);
    if (known) return known;
    const docNames = SegmentIndex.of(head.doc).newestFirst().map((n) => segmentDocName(roomId, n));
    const pending = this.#reader.newestMessages(roomId, docNames, RECENT_PAGE_SIZE);
    this.#read.set(roomId, pending);
    pending.then(
      (page) => {
        if (this.#read.get(roomId) === pending) this.#read.set(roomId, page);
      },
      () => {
        if (this.#read.get(roomId) === pending) this.#read.delete(roomId);
      },
    );
    return pending;
  }

  #sendPage(head: Room, peer: RoomPeer, messages: readonly MessageView[]): void {
    // Pinned as the head says now (a page read from storage came from the segments, which hold no pins).
    if (head.has(peer)) peer.send(encodeFrame({ type: 'recent', page: encodeRecentPage(messages.map((view) => withPin(view, head.doc))) }));
  }
}
