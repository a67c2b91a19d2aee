/* Over 350 lines for a reason: the scroller keeps the reader's place while pages come and go, reveals, and sticks to the bottom; its row layout lives in format/messageRows and its top edge in listEdge. */
import { LitElement, css, html, nothing, type PropertyValues } from 'lit';
import { listEdge } from './listEdge.ts';
import { repeat } from 'lit/directives/repeat.js';
import type { ClientMessage } from '../../room/ChatRoom.ts';
import { dayLabel } from '../format/formatTime.ts';
import { icons } from '../format/icons.ts';
import { layoutMessages, readReceipts } from '../format/messageRows.ts';
import { base, tokens } from '../theme.ts';
import type { Reader } from './parley-message.ts';
import './parley-message.ts';
import './parley-unread-divider.ts';
import './parley-unread-jump.ts';

/** How close to an edge (px) scrolling loads the next page. */
const EDGE_PX = 400;
/** Where a revealed message's divider lands, as a share of the viewport from its top: some context stays above it. */
const REVEAL_AT = 0.2;
/** The rows take the pointer again this long after the reader's last scroll (see #readerScrolled). */
const SCROLL_SETTLE_MS = 150;

/**
 * The message scroller. It renders only the window RoomController gives it, asks for more at
 * either edge (`load-older`, `load-newer`), keeps the message under the reader still while pages
 * come and go, sticks to the bottom while the reader is there, and reports it (`at-bottom`).
 * A "New messages" divider goes above `unreadId`; a new `reveal` scrolls its message into view
 * near the top, and "Jump to first unread" (`jump-unread`) is offered while it is outside the window.
 */
export class ParleyMessageList extends LitElement {
  static override properties = {
    messages: { attribute: false },
    hasOlder: { type: Boolean },
    hasNewer: { type: Boolean },
    myId: { attribute: false },
    isManager: { type: Boolean },
    readPositions: { attribute: false },
    nameOf: { attribute: false },
    roomId: { attribute: false },
    unreadId: { attribute: false },
    unreadCount: { type: Number },
    reveal: { attribute: false },
    opening: { type: Boolean },
    expectsMessages: { type: Boolean },
    threadUnread: { attribute: false },
  };
  declare messages: readonly ClientMessage[];
  declare hasOlder: boolean;
  declare hasNewer: boolean;
  declare myId: string;
  declare isManager: boolean;
  declare readPositions: ReadonlyMap<string, string>;
  declare nameOf: (userId: string) => string;
  declare roomId: string | null;
  declare unreadId: string | null;
  declare unreadCount: number;
  declare reveal: { readonly id: string } | null;
  /** While the room decides where it opens (aria-busy: it may move to the first unread). */
  declare opening: boolean;
  declare expectsMessages: boolean; // the room list says it has messages: empty means not synced here yet
  /** Unread replies per thread root in the window (none listed: none unread). */
  declare threadUnread: ReadonlyMap<string, number>;
  #atBottom = true;
  /** The message a reveal is waiting to scroll to, once its row is rendered. */
  #revealing: string | null = null;
  #unreadDismissed = false;
  /** What the room view last heard from `at-bottom` (null: nothing yet for this room). */
  #reported: boolean | null = null;
  /** The next update scrolls to the bottom whatever the reader's position (a send, "jump to latest"). */
  #stickRequested = false;
  #anchor: { id: string; top: number } | null = null;
  #painted: string | null = null;
  #requested = false;
  #settling = false;
  /** The readers array last given to each row that has any, so an unchanged row is not re-rendered. */
  #readersOf = new Map<string, readonly Reader[]>();
  /** Where the list last scrolled itself (a stick to the bottom, an anchor, a reveal): its scroll event is not the reader's. */
  #placedAt: number | null = null;
  /** Ends the rows' pointer hold (#readerScrolled) once the reader stops scrolling. */
  #settleTimer: ReturnType<typeof setTimeout> | undefined;
  /** When the reader's last scroll event came (performance.now()). */
  #lastScrollAt = -Infinity;

  constructor() {
    super();
    this.messages = [];
    this.hasOlder = false;
    this.hasNewer = false;
    this.myId = '';
    this.isManager = false;
    this.readPositions = new Map();
    this.nameOf = (id) => id;
    this.roomId = null;
    this.unreadId = null;
    this.unreadCount = 0;
    this.threadUnread = new Map();
    this.reveal = null;
    this.opening = false;
    this.expectsMessages = false;
  }

  static override styles = [
    tokens,
    base,
    css`
      :host {
        display: block;
        position: relative;
        min-height: 0;
      }
      .scroller {
        height: 100%;
        overflow-y: auto;
        overflow-anchor: none;
        overscroll-behavior: contain;
        padding-bottom: 12px;
      }
      /* The scroller itself keeps the pointer, so the wheel and the scrollbar still scroll it. */
      .scroller.scrolling > * {
        pointer-events: none;
      }
      .day {
        display: flex;
        align-items: center;
        gap: 12px;
        margin: 18px 20px 6px;
        font-size: 12px;
        font-weight: 600;
        color: var(--text-muted);
      }
      .day::before,
      .day::after {
        content: '';
        flex: 1;
        border-top: 1px solid var(--border);
      }
      .edge {
        padding: 16px;
        text-align: center;
        font-size: 13px;
        color: var(--text-faint);
      }
      .start {
        padding: 32px 20px 8px;
      }
      .start h2 {
        margin: 0 0 4px;
        font-size: 18px;
      }
      .start p {
        margin: 0;
        color: var(--text-muted);
        font-size: 14px;
      }
      .jump {
        position: absolute;
        right: 20px;
        bottom: 14px;
        display: inline-flex;
        align-items: center;
        gap: 6px;
        border: 1px solid var(--border);
        border-radius: 18px;
        background: var(--bg);
        box-shadow: var(--shadow);
        padding: 7px 12px;
        font-size: 13px;
        font-weight: 600;
      }
    `,
  ];

  override render() {
    const rows = layoutMessages(this.messages, (iso) => dayLabel(iso));
    const ids = this.messages.map((m) => m.id);
    const receipts = readReceipts(this.readPositions, ids, new Set([this.myId]), this.messages.map((m) => m.sender_id));
    const unreadId = this.unreadId;
    const offerUnread = unreadId !== null && !this.#unreadDismissed && this.messages.length > 0 && !this.messages.some((m) => m.id === unreadId);
    return html`<div class="scroller" data-testid="message-scroller" role="log" aria-live="polite" aria-relevant="additions" aria-label="Messages" aria-busy=${String(this.opening)} tabindex="0" @scroll=${this.#onScroll}>
        ${listEdge(this.hasOlder, this.messages.length === 0, this.expectsMessages)}
        ${repeat(
          rows,
          (row) => row.message.id,
          (row) => html`${row.day ? html`<div class="day" role="separator">${row.day}</div>` : nothing}${row.message.id === unreadId
              ? html`<parley-unread-divider role="separator" aria-label="New messages" data-testid="unread-divider"></parley-unread-divider>`
              : nothing}<parley-message
              data-message-id=${row.message.id}
              data-state=${row.message.state.state}
              .message=${row.message}
              .groupStart=${row.groupStart || row.message.id === unreadId}
              .mine=${row.message.sender_id === this.myId}
              .canDelete=${this.isManager}
              .readers=${this.#readers(row.message.id, receipts.get(row.message.id), row.message.sender_id)}
              .nameOf=${this.nameOf}
              .myId=${this.myId}
              .threadUnread=${this.threadUnread.get(row.message.id) ?? 0}
            ></parley-message>`,
        )}
        ${this.hasNewer ? html`<div class="edge" aria-hidden="true">Loading newer messages…</div>` : nothing}
      </div>
      ${offerUnread
        ? html`<parley-unread-jump
            data-testid="jump-to-unread"
            .count=${this.unreadCount}
            @jump=${() => this.dispatchEvent(new CustomEvent('jump-unread'))}
            @dismiss=${() => {
              this.#unreadDismissed = true;
              this.requestUpdate();
            }}
          ></parley-unread-jump>`
        : nothing}
      ${this.hasNewer || !this.#atBottom
        ? html`<button class="jump" @click=${this.#jump}>${icons.arrowDown(15)} Jump to latest</button>`
        : nothing}`;
  }

  /** Who has read up to this message; its sender obviously has, so is not listed. */
  #readers(messageId: string, ids: readonly string[] | undefined, senderId: string | null): readonly Reader[] {
    const others = ids?.filter((id) => id !== senderId);
    if (!others || others.length === 0) {
      this.#readersOf.delete(messageId);
      return EMPTY;
    }
    // The same readers as last render keep the same array: a new one would re-render the row
    // (every row of the 200-row window holding receipts, on every page added while scrolling).
    if (this.#readersOf.size > 1000) this.#readersOf.clear(); // rows long gone from the window
    const kept = this.#readersOf.get(messageId);
    if (kept && kept.length === others.length && kept.every((r, i) => r.id === others[i] && r.name === this.nameOf(r.id))) return kept;
    const readers = others.map((id) => ({ id, name: this.nameOf(id) }));
    this.#readersOf.set(messageId, readers);
    return readers;
  }

  get #scroller(): HTMLElement | null {
    return this.renderRoot.querySelector('.scroller');
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('roomId')) {
      this.#readersOf.clear();
      this.#atBottom = true;
      this.#anchor = null;
      [this.#revealing, this.#unreadDismissed, this.#reported] = [null, false, null];
      if (this.roomId === null) this.#painted = null;
    }
    if (changed.has('reveal') && this.reveal) this.#revealing = this.reveal.id;
    // While the last update's rows are still rendering, the DOM is half-built: keep its anchor.
    if (this.#settling) return;
    // Remember the first message in view, to put it back where it was after the update.
    this.#anchor = null;
    const scroller = this.#scroller;
    if (!scroller) return;
    // The scroll event reaches #onScroll a frame after the reader scrolls: an update in between
    // must not pull a reader who just left the bottom back down to it. The geometry now, before
    // this update adds anything, is the truth (unless the bottom was asked for: a send, the jump).
    if (this.#stickRequested || changed.has('roomId')) this.#stickRequested = false;
    else this.#noteAtBottom(scroller);
    if (this.#atBottom) return;
    const top = scroller.getBoundingClientRect().top;
    for (const row of scroller.querySelectorAll<HTMLElement>('parley-message')) {
      const rect = row.getBoundingClientRect();
      if (rect.bottom > top) {
        this.#anchor = { id: row.dataset.messageId ?? '', top: rect.top - top };
        return;
      }
    }
  }

  protected override async updated(changed: PropertyValues<this>): Promise<void> {
    const scroller = this.#scroller;
    if (!scroller || this.#settling) return;
    this.#settling = true;
    try {
      await this.#rowsRendered(scroller);
    } finally {
      this.#settling = false;
    }
    this.#requested = false;
    if (this.#revealing !== null) {
      this.#revealWhenRendered(scroller);
    } else if (this.#atBottom && !this.hasNewer) {
      this.#place(scroller, scroller.scrollHeight);
    } else if (this.#anchor) {
      const row = scroller.querySelector<HTMLElement>(`parley-message[data-message-id="${CSS.escape(this.#anchor.id)}"]`);
      if (row) {
        const now = row.getBoundingClientRect().top - scroller.getBoundingClientRect().top;
        this.#place(scroller, scroller.scrollTop + now - this.#anchor.top);
      }
    }
    this.#anchor = null;
    // Painted means the newest messages are on screen: a room still loading (no rows, older ones
    // coming) has not painted yet; an empty room has. A room opening at its first unread has
    // painted once that is in view.
    const shown = (this.messages.length > 0 || !this.hasOlder) && this.#revealing === null;
    if (this.roomId && shown && this.#painted !== this.roomId && (changed.has('roomId') || changed.has('messages'))) {
      const roomId = this.roomId;
      this.#painted = roomId;
      requestAnimationFrame(() => this.dispatchEvent(new CustomEvent('painted', { detail: roomId })));
    }
    // Reaching the newest page while at the bottom changes what the bottom means, not the geometry.
    if (this.#revealing === null) this.#report();
    this.#checkEdges(scroller);
  }

  /**
   * Scrolls the revealed message's divider (or the message) to near the top, once its row is here.
   * The room view then hears where that left the reader, changed or not: opening at an unread
   * message, it marks nothing read until the list says it is at the bottom.
   */
  #revealWhenRendered(scroller: HTMLElement): void {
    const row = scroller.querySelector<HTMLElement>(`parley-message[data-message-id="${CSS.escape(this.#revealing ?? '')}"]`);
    if (!row) return;
    this.#revealing = null;
    this.#reported = null;
    const divider = row.previousElementSibling?.matches('parley-unread-divider') ? row.previousElementSibling : row;
    const offset = divider.getBoundingClientRect().top - scroller.getBoundingClientRect().top;
    this.#place(scroller, scroller.scrollTop + offset - Math.round(scroller.clientHeight * REVEAL_AT));
    this.#atBottom = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 24;
    // "Jump to latest" follows the new position.
    this.requestUpdate();
  }

  /** Rows render their own shadow content a microtask after the list; measure only once all have. */
  async #rowsRendered(scroller: HTMLElement): Promise<void> {
    for (;;) {
      await this.updateComplete;
      // Only rows with an update pending are awaited: an unchanged row costs no promise.
      const rows = [...scroller.querySelectorAll<ParleyMessageLike>('parley-message')];
      const pending = rows.filter((m) => m.isUpdatePending);
      if (pending.length > 0) await Promise.all(pending.map((m) => m.updateComplete));
      if (!this.isUpdatePending && !rows.some((m) => m.isUpdatePending)) return;
    }
  }

  #onScroll(): void {
    const scroller = this.#scroller;
    if (!scroller) return;
    if (scroller.scrollTop !== this.#placedAt) this.#readerScrolled(scroller);
    this.#placedAt = null;
    if (this.#noteAtBottom(scroller)) this.requestUpdate();
    this.#checkEdges(scroller);
  }

  /** Scrolls the list itself, remembering where, so that the scroll event this raises is not taken for the reader's. */
  #place(scroller: HTMLElement, top: number): void {
    scroller.scrollTop = top;
    this.#placedAt = scroller.scrollTop;
  }

  /**
   * While the reader scrolls, the rows ignore the pointer, until SCROLL_SETTLE_MS after the last
   * scroll. Otherwise a pointer resting over the list enters a new row on every frame: that row
   * renders its actions, the last one drops them, and the next frame lays both out again (2 to 4
   * ms a frame in the 1M-room scroll benchmark, in a frame budget of 16.7 ms). A scroll is taken
   * for the reader's from its second event within SCROLL_SETTLE_MS: a lone one (a new message
   * stuck to the bottom, the browser keeping the position inside a list that shrank) holds
   * nothing, so a click on a row stays a click. Scrolls the list makes itself never count.
   */
  #readerScrolled(scroller: HTMLElement): void {
    const now = performance.now();
    if (now - this.#lastScrollAt < SCROLL_SETTLE_MS) this.#holdPointer(scroller);
    this.#lastScrollAt = now;
  }

  /** The rows ignore the pointer (`.scrolling`) until SCROLL_SETTLE_MS after the reader's last scroll. */
  #holdPointer(scroller: HTMLElement): void {
    if (this.#settleTimer !== undefined) return;
    scroller.classList.add('scrolling');
    this.#releasePointerIn(scroller, SCROLL_SETTLE_MS);
  }

  /**
   * One timer for the whole hold, not one per scroll event (a frame's worth of clearTimeout and
   * setTimeout while the reader scrolls): when it fires early it waits out the rest.
   */
  #releasePointerIn(scroller: HTMLElement, ms: number): void {
    this.#settleTimer = setTimeout(() => {
      const quiet = performance.now() - this.#lastScrollAt;
      if (quiet < SCROLL_SETTLE_MS) return this.#releasePointerIn(scroller, SCROLL_SETTLE_MS - quiet);
      this.#settleTimer = undefined;
      scroller.classList.remove('scrolling');
    }, ms);
  }

  /** Reads whether the reader is at the bottom; tells the room view when that changed (returns whether it did). */
  #noteAtBottom(scroller: HTMLElement): boolean {
    const atBottom = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 24;
    if (atBottom === this.#atBottom) return false;
    this.#atBottom = atBottom;
    this.#report();
    return true;
  }

  /** Tells the room view whether the newest message is in view, when that changed since it last heard. */
  #report(): void {
    const detail = this.#atBottom && !this.hasNewer;
    if (detail === this.#reported) return;
    this.#reported = detail;
    this.dispatchEvent(new CustomEvent('at-bottom', { detail }));
  }

  #checkEdges(scroller: HTMLElement): void {
    if (this.#requested) return;
    if (this.hasOlder && scroller.scrollTop < EDGE_PX) {
      this.#requested = true;
      this.dispatchEvent(new CustomEvent('load-older'));
    } else if (this.hasNewer && scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < EDGE_PX) {
      this.#requested = true;
      this.dispatchEvent(new CustomEvent('load-newer'));
    }
  }

  #jump(): void {
    this.#atBottom = true;
    this.#stickRequested = true;
    this.dispatchEvent(new CustomEvent('jump-latest'));
    this.#reported = true;
    this.dispatchEvent(new CustomEvent('at-bottom', { detail: true }));
    this.requestUpdate();
  }

  /** Scrolls to the newest message (after sending). */
  stickToBottom(): void {
    this.#atBottom = true;
    this.#stickRequested = true;
    this.requestUpdate();
  }
}

interface ParleyMessageLike extends HTMLElement {
  readonly updateComplete: Promise<boolean>;
  readonly isUpdatePending: boolean;
}

const EMPTY: readonly Reader[] = [];

customElements.define('parley-message-list', ParleyMessageList);
