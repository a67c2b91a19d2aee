import type { Room } from '../sync/Room.ts';
import type { FeedEvent } from './RoomEventFeed.ts';
import type { RoomFeeds } from './RoomFeeds.ts';

export interface SubscriptionDeps {
  readonly room: Room;
  /** Releases the room lease that keeps the room loaded while joined. */
  readonly release: () => void;
  readonly feeds: RoomFeeds;
  readonly user: { readonly id: string; readonly name: string };
  readonly send: (frame: string) => void;
  /** A typing state clears itself after this long without another typing_start (as the SDK's does). */
  readonly typingTimeoutMs: number;
}

/**
 * A command connection joined to a room: it keeps the room loaded, receives the room's events, and
 * appears in the room's awareness as `{user: {id, name}, typing}` (the shape the SDK reads) under
 * a client id the server controls, so Yjs clients see a command client typing.
 */
export class RoomSubscription {
  readonly room: Room;
  readonly #deps: SubscriptionDeps;
  readonly #awarenessId: number;
  readonly #unsubscribe: () => void;
  #typingTimer: NodeJS.Timeout | null = null;
  #ended = false;

  constructor(deps: SubscriptionDeps) {
    this.#deps = deps;
    this.room = deps.room;
    this.#unsubscribe = deps.feeds.subscribe(deps.room, (event: FeedEvent) => deps.send(event.frame));
    this.#awarenessId = deps.room.roomAwareness.freshClientId();
    this.#setTyping(false);
  }

  typing(on: boolean): void {
    if (this.#ended) return;
    if (this.#typingTimer) clearTimeout(this.#typingTimer);
    this.#typingTimer = null;
    if (on) {
      this.#typingTimer = setTimeout(() => this.typing(false), this.#deps.typingTimeoutMs);
      this.#typingTimer.unref();
    }
    this.#setTyping(on);
  }

  /** Leaves the room: no more events, gone from awareness, the room may unload. Idempotent. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    if (this.#typingTimer) clearTimeout(this.#typingTimer);
    this.#unsubscribe();
    this.room.roomAwareness.setServerOwned(this.#awarenessId, null);
    this.#deps.release();
  }

  #setTyping(typing: boolean): void {
    const { id, name } = this.#deps.user;
    this.room.roomAwareness.setServerOwned(this.#awarenessId, { user: { id, name }, typing });
  }
}
