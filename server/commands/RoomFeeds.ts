import type { Room } from '../sync/Room.ts';
import { type FeedListener, RoomEventFeed } from './RoomEventFeed.ts';

/** One event feed per loaded room that has subscribers; a feed stops observing with its last subscriber. */
export class RoomFeeds {
  readonly #feeds = new Map<Room, RoomEventFeed>();
  readonly #nameOf: (userId: string) => string | null;

  constructor(nameOf: (userId: string) => string | null) {
    this.#nameOf = nameOf;
  }

  subscribe(room: Room, listener: FeedListener): () => void {
    let feed = this.#feeds.get(room);
    if (!feed) this.#feeds.set(room, (feed = new RoomEventFeed(room, this.#nameOf)));
    const unsubscribe = feed.subscribe(listener);
    const current = feed;
    return () => {
      unsubscribe();
      if (current.subscribers > 0 || this.#feeds.get(room) !== current) return;
      current.dispose();
      this.#feeds.delete(room);
    };
  }

  /** Feeds still open (for tests of cleanup). */
  get size(): number {
    return this.#feeds.size;
  }

  /** Drops the feeds of rooms that are gone (unloaded after a failure, or at shutdown). */
  forgetClosed(): void {
    for (const [room, feed] of this.#feeds) {
      if (!room.closed) continue;
      feed.dispose();
      this.#feeds.delete(room);
    }
  }
}
