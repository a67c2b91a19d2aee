import { RECENT_PAGE_SIZE } from '../../shared/protocol/recentPage.ts';
import type { MessageView } from '../../shared/roomDoc/messageView.ts';
import type { SegmentIndex } from '../../shared/roomDoc/segments.ts';
import type { LocalStore } from '../store/LocalStore.ts';

/** A page read from the segments is stored at most this often while it changes. */
const SAVE_DELAY_MS = 1_000;

/**
 * A segmented room's newest messages as a picture (shared/protocol/recentPage.ts), so the room
 * shows them before the segments that hold them are open here: a full segment is thousands of
 * messages to sync or load, the picture a screen of them. It comes from the server with the head's
 * greeting (before the head's step 2), and from the device's own segments once they could fill
 * the newest page (stored, for the next open, offline too). It stands in only for segments not
 * readable yet and is never merged into a document: the segments stay the truth, and replace it
 * as they open. Reading a page costs one JSON.stringify of at most 50 views (the change check).
 */
export class RecentPage {
  readonly #roomId: string;
  readonly #store: LocalStore;
  #messages: readonly MessageView[];
  #byId: Map<string, MessageView> | null = null;
  /** The picture as JSON (computed once per change), and as last stored: unchanged, nothing is written. */
  #json: string;
  #stored: string;
  /** The newest message id of the stored picture ('' for none). */
  #storedNewest: string;
  #saveTimer: ReturnType<typeof setTimeout> | null = null;

  private constructor(roomId: string, store: LocalStore, messages: readonly MessageView[]) {
    this.#roomId = roomId;
    this.#store = store;
    this.#messages = messages;
    this.#json = JSON.stringify(messages);
    this.#stored = this.#json;
    this.#storedNewest = messages.at(-1)?.id ?? '';
  }

  /** The picture this device stored of the room (none when it has none, or cannot read it). */
  static async load(roomId: string, store: LocalStore): Promise<RecentPage> {
    const row = await store.getRecentPage(roomId).catch(() => null);
    return new RecentPage(roomId, store, row?.messages ?? []);
  }

  /** The newest `count` messages of the picture that segment `n` holds, before `beforeId` (any when undefined), oldest first. */
  within(index: SegmentIndex, n: number, beforeId: string | undefined, count: number): MessageView[] {
    const found: MessageView[] = [];
    for (let i = this.#messages.length - 1; i >= 0 && found.length < count; i--) {
      const m = this.#messages[i];
      if (m && (beforeId === undefined || m.id < beforeId) && index.homeOf(m.id) === n) found.unshift(m);
    }
    return found;
  }

  /**
   * Whether the picture goes on into the segment before `n` (it holds messages there): a page it
   * stands in for may go on there too. A picture from before later segments were sealed does not
   * reach down from the newest: the page then waits for the segments instead of showing old messages
   * as the newest (and opening every segment in between).
   */
  reachesBelow(index: SegmentIndex, n: number): boolean {
    return this.#messages.some((m) => index.homeOf(m.id) === n - 1);
  }

  /** The picture's newest `limit` messages as a page (hasMore while it holds any: the room is segmented). */
  newest(limit: number): { messages: MessageView[]; hasMore: boolean } {
    return { messages: this.#messages.slice(-limit), hasMore: this.#messages.length > 0 };
  }

  /** Those of `messages` newer than the picture's oldest (none without a picture): they cannot leave a gap before it. */
  newerThanOldest(messages: readonly MessageView[]): MessageView[] {
    const oldest = this.#messages[0]?.id;
    return oldest === undefined ? [] : messages.filter((m) => m.id > oldest);
  }

  get(id: string): MessageView | null {
    this.#byId ??= new Map(this.#messages.map((m) => [m.id, m]));
    return this.#byId.get(id) ?? null;
  }

  /** The server's picture: replaces this one, and is stored at once. */
  received(messages: readonly MessageView[]): void {
    this.#set(messages, JSON.stringify(messages));
    this.#save();
  }

  /**
   * The newest page as the device's segments read (only when they could fill it): stored shortly
   * for the next open; at once with `now`, or when it has nothing in common with the stored one
   * (the device would open on older messages than it has shown).
   */
  read(page: readonly MessageView[], { now = false }: { now?: boolean } = {}): void {
    const messages = page.slice(-RECENT_PAGE_SIZE);
    // Never back in time: segments still syncing (or a head read mid-conversion) can show an
    // older newest page than the server's picture.
    if ((messages.at(-1)?.id ?? '') < (this.#messages.at(-1)?.id ?? '')) return;
    const json = JSON.stringify(messages);
    if (json === this.#json) return;
    this.#set(messages, json);
    if (now || this.#storedNewest < (messages[0]?.id ?? '')) this.#save();
    else this.#saveTimer ??= setTimeout(() => this.#save(), SAVE_DELAY_MS);
  }

  /** Stores a picture still waiting. */
  close(): void {
    if (this.#saveTimer !== null) this.#save();
  }

  #set(messages: readonly MessageView[], json: string): void {
    this.#messages = messages;
    this.#json = json;
    this.#byId = null;
  }

  #save(): void {
    if (this.#saveTimer !== null) clearTimeout(this.#saveTimer);
    this.#saveTimer = null;
    if (this.#json === this.#stored) return;
    this.#stored = this.#json;
    this.#storedNewest = this.#messages.at(-1)?.id ?? '';
    // Only a picture for a faster first paint: a failed write leaves the older one.
    this.#store.putRecentPage({ roomId: this.#roomId, messages: [...this.#messages] }).catch(() => undefined);
  }
}
