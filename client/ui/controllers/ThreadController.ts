import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { ChatRoom, ClientMessage } from '../../room/ChatRoom.ts';
import { StableMessages } from './StableMessages.ts';

/** Replies a thread panel shows at first, and adds per "Earlier replies". */
export const THREAD_PAGE = 50;
/** The most replies one page of room.threads may hold. */
const MAX_THREAD_WINDOW = 1000;

/**
 * One open thread for the thread panel: its root and newest replies, read through
 * `room.threads` and re-read once per frame while the room changes. Showing the newest reply
 * with the page visible moves my read position in the thread to it.
 */
export class ThreadController implements ReactiveController {
  readonly #host: ReactiveControllerHost;
  room: ChatRoom | null = null;
  rootId: string | null = null;
  root: ClientMessage | null = null;
  replies: readonly ClientMessage[] = [];
  hasOlder = false;
  #limit = THREAD_PAGE;
  #offs: Array<() => void> = [];
  #frame: number | null = null;
  #rootRequested = false;
  readonly #rows = new StableMessages();

  constructor(host: ReactiveControllerHost) {
    this.#host = host;
    host.addController(this);
  }

  hostConnected(): void {
    if (this.room && this.rootId && this.#offs.length === 0) this.#subscribe(this.room);
  }

  hostDisconnected(): void {
    this.#unsubscribe();
  }

  /** Shows the thread under `rootId` of `room` (nothing when either is null). */
  show(room: ChatRoom | null, rootId: string | null): void {
    if (room === this.room && rootId === this.rootId) return;
    this.#unsubscribe();
    [this.room, this.rootId, this.root, this.replies, this.hasOlder] = [room, rootId, null, [], false];
    [this.#limit, this.#rootRequested] = [THREAD_PAGE, false];
    this.#rows.clear();
    if (room && rootId) {
      this.#subscribe(room);
      this.#recompute();
    }
    this.#host.requestUpdate();
  }

  loadOlder(): void {
    if (!this.hasOlder || this.#limit >= MAX_THREAD_WINDOW) return;
    this.#limit = Math.min(MAX_THREAD_WINDOW, this.#limit + THREAD_PAGE);
    this.#recompute();
  }

  /** Marks the thread read up to its newest reply, when the page is seen and something is unread. */
  markSeen(): void {
    const { room, rootId } = this;
    const newest = this.replies.at(-1);
    if (!room || room.closed || !rootId || !newest || document.visibilityState !== 'visible') return;
    if (room.threads.unreadCount(rootId) === 0) return;
    room.threads.markRead(rootId, newest.id).catch(() => undefined);
  }

  #subscribe(room: ChatRoom): void {
    const schedule = (): void => {
      if (this.#frame !== null) return;
      this.#frame = requestAnimationFrame(() => {
        this.#frame = null;
        this.#recompute();
      });
    };
    this.#offs = [room.on('change', schedule), room.on('states', schedule)];
  }

  #unsubscribe(): void {
    for (const off of this.#offs) off();
    this.#offs = [];
    if (this.#frame !== null) cancelAnimationFrame(this.#frame);
    this.#frame = null;
  }

  #recompute(): void {
    const { room, rootId } = this;
    if (!room || room.closed || !rootId) return;
    this.root = room.getMessage(rootId);
    if (!this.root && room.segmented && !this.#rootRequested) {
      // The root's segment is not held here: opening it brings the root with a 'change'.
      this.#rootRequested = true;
      room.loadHistory({ beforeId: `${rootId}\uffff` }).catch(() => undefined);
    }
    const page = room.threads.page(rootId, { limit: this.#limit });
    const root = this.root;
    if (root) this.root = this.#rows.stable(root);
    [this.replies, this.hasOlder] = [page.messages.map((m) => this.#rows.stable(m)), page.hasMore];
    this.#host.requestUpdate();
  }
}
