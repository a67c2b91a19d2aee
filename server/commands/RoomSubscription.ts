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
  /** The documents whose events it forwards: the room's own, and in a segmented room its loaded segments. */
  readonly #followed = new Map<Room, () => void>();
  readonly #holds: Array<() => void> = [];
  #typingTimer: NodeJS.Timeout | null = null;
  #ended = false;

  constructor(deps: SubscriptionDeps) {
    this.#deps = deps;
    this.room = deps.room;
    this.follow(deps.room);
    this.#awarenessId = deps.room.roomAwareness.freshClientId();
    this.#setTyping(false);
  }

  /**
   * Forwards the events of another document of the room too (a segment, while loaded); with
   * `release`, the subscription holds it loaded until it ends (the open segment).
   */
  follow(doc: Room, release?: () => void): void {
    if (this.#ended) return release?.();
    if (release) this.#holds.push(release);
    if ( this.#followed.has(doc) || doc.closed) return;
    this.#followed.set(doc, this.#deps.feeds.subscribe(doc, (event: FeedEvent) => this.#deps.send(event.frame)));
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
    for (const unsubscribe of this.#followed.values()) unsubscribe();
    this.#followed.clear();
    this.room.roomAwareness.setServerOwned(this.#awarenessId, null);
    this.#deps.release();
    for (const release of this.#holds.splice(0)) release();
  }

  #setTyping(typing: boolean): void {
    const { id, name } = this.#deps.user;
    this.room.roomAwareness.setServerOwned(this.#awarenessId, { user: { id, name }, typing });
  }
}
