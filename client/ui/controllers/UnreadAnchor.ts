import type { ChatRoom } from '../../room/ChatRoom.ts';

type Room = Pick<ChatRoom, 'messages' | 'readPosition' | 'connectionState' | 'segmented' | 'loadHistory' | 'unreadCount'>;

/** Messages read per step while looking for the first unread past my own (rarely more than one step). */
const SCAN_PAGE = 200;

/**
 * Where an opened room starts: at its newest messages, or at the first message I have not read
 * ("New messages" above it). Decided once per opening, from my read position as the device holds
 * it; until then the room must not mark anything read (the list shows the newest messages while
 * it waits, and reaching the bottom of those is not reading what came in while I was away).
 */
export class UnreadAnchor {
  /** The first unread message when the room opened, where the divider goes; null: none. */
  firstId: string | null = null;
  /**
   * How many are unread, kept fresh (a sync still bringing them) until my read position moves
   * from where it was when the room opened; in a segmented room an estimate (ChatRoom.unreadCount).
   */
  count = 0;
  #position: string | null = null;
  #decided = false;
  #history: 'no' | 'loading' | 'loaded' = 'no';
  readonly #myId: string;
  readonly #onHistory: () => void;

  /**
   * `onHistory`: the segments between my read position and now are open, look again. (An anchor
   * of a room no longer open may still call it: that costs the open room one recompute.)
   */
  constructor(myId: string, onHistory: () => void) {
    this.#myId = myId;
    this.#onHistory = onHistory;
  }

  get decided(): boolean {
    return this.#decided;
  }

  /**
   * Looks at the room on each change: 'unread' when it has just decided on opening at the first
   * unread (firstId is set), 'latest' when at the newest messages, else null (undecided yet, or
   * decided before). An empty position with the room still connecting may only mean that this
   * device has not synced it yet; so may a position with nothing after it (what came since may be
   * on its way), unless the device already holds something unread.
   */
  decide(room: Room): 'unread' | 'latest' | null {
    const position = room.readPosition();
    if (this.#decided) return null;
    const waiting = room.connectionState === 'connecting';
    if (position === null) return waiting ? null : this.#settle(null);
    // Paging forward only reads the segments open here: those from my position on must be.
    if (room.segmented && this.#history !== 'loaded') {
      if (this.#history === 'no') {
        this.#history = 'loading';
        // A cursor just past the position: the segment holding it, and every newer one, opens.
        const done = (): void => {
          this.#history = 'loaded';
          this.#onHistory();
        };
        room.loadHistory({ beforeId: `${position}\uffff` }).then(done, done);
      }
      return null;
    }
    const first = firstUnreadAfter(room, position, this.#myId);
    // A newer segment still opening: the first unread may be in it.
    if (first === UNKNOWN_YET || (first === null && waiting)) return null;
    this.#position = position;
    this.count = first === null ? 0 : room.unreadCount();
    return this.#settle(first);
  }

  /**
   * Counts again after the room changed (a sync still bringing them), until my read position moves
   * from where it was when the room opened. Not on paging: the count scans every unread message held.
   */
  refreshCount(room: Pick<Room, 'readPosition' | 'unreadCount'>): void {
    if (this.#decided && this.firstId !== null && room.readPosition() === this.#position) this.count = room.unreadCount();
  }

  /** The reader went to the newest messages (sent one) before the room knew where it opens: there it stays. */
  skip(): void {
    if (!this.#decided) this.#settle(null);
  }

  #settle(firstId: string | null): 'unread' | 'latest' {
    this.#decided = true;
    this.firstId = firstId;
    return firstId === null ? 'latest' : 'unread';
  }
}

/** firstUnreadAfter could not tell: the messages after those read so far are in a segment still opening. */
export const UNKNOWN_YET = Symbol('unknown yet');

/**
 * The first message after `position` that someone else sent and nobody deleted (unread), null when
 * there is none, or UNKNOWN_YET when a newer segment must open first (its 'change' comes).
 */
export function firstUnreadAfter(room: Pick<ChatRoom, 'messages'>, position: string, myId: string): string | null | typeof UNKNOWN_YET {
  for (let cursor = position; ; ) {
    const page = room.messages({ afterId: cursor, limit: SCAN_PAGE });
    const hit = page.messages.find((m) => m.sender_id !== myId && !m.is_deleted);
    if (hit) return hit.id;
    const last = page.messages.at(-1);
    if (!page.hasMore) return null;
    if (!last) return UNKNOWN_YET;
    cursor = last.id;
  }
}
