/*
 * Over 350 lines for a reason: one message row with its template and styles (lit keeps them
 * together); its helpers live in client/ui/format.
 */
import { LitElement, css, html, nothing } from 'lit';
import { unsafeHTML } from 'lit/directives/unsafe-html.js';
import type { ClientMessage } from '../../room/ChatRoom.ts';
import { describeRefusal } from '../../errors/describeRefusal.ts';
import { clockTime } from '../format/formatTime.ts';
import { icons } from '../format/icons.ts';
import { renderMessage } from '../format/markdown.ts';
import { mentionContent, mentionStyles } from '../format/mentionContent.ts';
import { inThreadLine, quotedBlock, relationStyles, replyLine } from '../format/messageRelations.ts';
import { messageContentStyles } from '../format/messageContentStyles.ts';
import { base } from '../theme.ts';
import './parley-attachments.ts';
import './parley-avatar.ts';
import './parley-emoji-picker.ts';

export type MessageAction =
  | { readonly action: 'edit'; readonly id: string; readonly content: string }
  | { readonly action: 'delete' | 'retry' | 'discard'; readonly id: string }
  | { readonly action: 'react'; readonly id: string; readonly reaction: string }
  | { readonly action: 'pin' | 'unpin'; readonly id: string }
  /** Open the thread under root `id`; quote message `id` in the composer; show message `id` (a quoted one). */
  | { readonly action: 'thread' | 'quote' | 'jump'; readonly id: string };

export interface Reader {
  readonly id: string;
  readonly name: string;
}

/**
 * One message row: sender, time, text or the deleted placeholder, reactions, delivery state,
 * read receipts and hover actions. Emits `message-action` (MessageAction).
 */
export class ParleyMessage extends LitElement {
  static override properties = {
    message: { attribute: false },
    groupStart: { type: Boolean, attribute: 'group-start' },
    mine: { type: Boolean },
    canDelete: { type: Boolean, attribute: 'can-delete' },
    readers: { attribute: false },
    nameOf: { attribute: false },
    myId: { attribute: false },
    threadUnread: { type: Number, attribute: false },
    inThread: { type: Boolean, attribute: 'in-thread' },
    editing: { state: true },
    picking: { state: true },
    confirmingDelete: { state: true },
    active: { state: true },
    expanded: { state: true },
  };
  declare message: ClientMessage;
  declare groupStart: boolean;
  declare mine: boolean;
  declare canDelete: boolean;
  declare readers: readonly Reader[];
  declare nameOf: (userId: string) => string;
  declare myId: string;
  /** Replies I have not read in the thread under this message. */
  declare threadUnread: number;
  /** Shown in a thread panel: no reply line, no thread or quote actions. */
  declare inThread: boolean;
  declare editing: boolean;
  declare picking: boolean;
  /** The delete button was pressed once: it asks before deleting (a deletion cannot be undone). */
  declare confirmingDelete: boolean;
  /**
   * The pointer is over the row or focus is in it: only then are its actions rendered (a row
   * without them is about half the elements: pages of 50 rows added while scrolling back lay out
   * in half the time).
   */
  declare active: boolean;
  /** A long message shows whole (after "Show more"), not clamped. */
  declare expanded: boolean;

  constructor() {
    super();
    this.groupStart = true;
    this.mine = false;
    this.canDelete = false;
    this.readers = [];
    this.nameOf = (id) => id;
    this.myId = '';
    this.threadUnread = 0;
    this.inThread = false;
    this.editing = false;
    this.picking = false;
    this.confirmingDelete = false;
    this.active = false;
    this.expanded = false;
  }

  // No `tokens`: the list and the thread panel around every row declare them, and custom
  // properties inherit through shadow roots; declaring 26 of them again on each of 200 rows only
  // added style work to every page of rows laid out while scrolling.
  static override styles = [
    base,
    messageContentStyles,
    mentionStyles,
    relationStyles,
    css`
      :host {
        display: block;
      }
      .row {
        position: relative;
        display: grid;
        grid-template-columns: 40px 1fr;
        column-gap: 10px;
        padding: 2px 20px 2px 16px;
      }
      .row.start {
        margin-top: 10px;
        padding-top: 4px;
      }
      .row:hover,
      .row:focus-within {
        background: var(--bg-subtle);
      }
      .gutter {
        font-size: 11px;
        color: transparent;
        text-align: right;
        padding-top: 3px;
        user-select: none;
      }
      .row:hover .gutter {
        color: var(--text-faint);
      }
      .head {
        display: flex;
        align-items: baseline;
        gap: 8px;
        margin-bottom: 1px;
      }
      .sender {
        font-weight: 650;
        font-size: 15px;
      }
      .time {
        font-size: 12px;
        color: var(--text-faint);
      }
      .content {
        font-size: 15px;
        line-height: 1.45;
        white-space: pre-wrap;
        overflow-wrap: anywhere;
      }
      .edited {
        font-size: 12px;
        color: var(--text-faint);
        margin-left: 4px;
      }
      .deleted {
        font-style: italic;
        color: var(--text-faint);
        font-size: 14px;
      }
      .system {
        color: var(--text-muted);
        font-size: 13px;
        text-align: center;
        padding: 6px 16px;
      }
      .meta {
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: 6px;
        margin-top: 4px;
      }
      .meta:empty {
        display: none;
      }
      .reaction {
        display: inline-flex;
        align-items: center;
        gap: 5px;
        height: 26px;
        padding: 0 8px;
        border-radius: 13px;
        border: 1px solid var(--border);
        background: var(--bg);
        font-size: 13px;
      }
      .reaction[aria-pressed='true'] {
        border-color: #c7c9fb;
        background: var(--accent-soft);
        color: var(--accent);
      }
      .reaction .count {
        font-weight: 600;
        font-size: 12px;
      }
      .state {
        display: inline-flex;
        align-items: center;
        gap: 4px;
        margin-left: 6px;
        vertical-align: -2px;
        color: var(--text-faint);
      }
      .state.sent {
        color: var(--success);
      }
      .rejected,
      .confirm {
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: 8px;
        margin-top: 6px;
        padding: 8px 10px;
        border-radius: var(--radius);
        background: var(--danger-soft);
        color: var(--danger);
        font-size: 13px;
      }
      .confirm {
        grid-column: 2 / -1;
      }
      .confirm span {
        flex: 1;
      }
      .confirm button,
      .rejected button {
        border: 1px solid currentColor;
        background: transparent;
        border-radius: 6px;
        padding: 3px 10px;
        font-size: 12px;
        font-weight: 600;
      }
      .readers {
        display: flex;
        justify-content: flex-end;
        align-items: center;
        gap: 3px;
        margin-top: 2px;
        font-size: 11px;
        color: var(--text-faint);
      }
      .actions {
        position: absolute;
        top: -14px;
        right: 20px;
        gap: 2px;
        padding: 2px;
        background: var(--bg);
        border: 1px solid var(--border);
        border-radius: var(--radius);
        box-shadow: 0 1px 3px rgb(16 16 24 / 8%);
      }
      .actions {
        display: flex;
      }
      .picker {
        position: absolute;
        z-index: 5;
        top: 20px;
        right: 20px;
      }
      textarea {
        width: 100%;
        min-height: 64px;
        resize: vertical;
        line-height: 1.45;
      }
      .edit-hint {
        font-size: 12px;
        color: var(--text-muted);
        margin-top: 4px;
      }
      @media (hover: none) {
        .actions {
          position: static;
          box-shadow: none;
          border: 0;
          background: transparent;
          grid-column: 2;
          justify-self: end;
        }
      }
    `,
  ];

  override render() {
    const m = this.message;
    if (m.message_type === 'system') return html`<div class="system">${m.content}</div>`;
    const sender = m.sender_name ?? (m.sender_id ? this.nameOf(m.sender_id) : 'Unknown');
    const mentionsMe = !m.is_deleted && m.mentioned_users.includes(this.myId);
    return html`<article
      class="row ${this.groupStart ? 'start' : ''} ${mentionsMe ? 'mentions-me' : ''}"
      data-pinned=${String(m.pinned)}
      aria-label=${`${sender} at ${clockTime(m.created_at)}${m.is_deleted ? ', deleted' : ''}${m.is_edited ? ', edited' : ''}`}
      tabindex="0"
      @mouseenter=${this.#activate}
      @focusin=${this.#activate}
      @mouseleave=${this.#deactivate}
      @focusout=${this.#deactivate}
    >
      ${this.groupStart
        ? html`<parley-avatar .name=${sender} .userKey=${m.sender_id ?? sender} size="36"></parley-avatar>`
        : html`<div class="gutter" aria-hidden="true">${clockTime(m.created_at)}</div>`}
      <div>
        ${this.groupStart ? html`<div class="head"><span class="sender">${sender}</span><time class="time" datetime=${m.created_at}>${clockTime(m.created_at)}</time>${this.#pinMark()}</div>` : nothing}
        ${this.groupStart ? nothing : this.#pinMark()}
        ${m.parent_id !== null && !this.inThread ? inThreadLine(() => this.#emit({ action: 'thread', id: m.parent_id ?? m.id })) : nothing}
        ${m.quoted_message && !m.is_deleted ? quotedBlock(m.quoted_message, this.nameOf, () => this.#emit({ action: 'jump', id: m.quoted_message?.id ?? m.id })) : nothing}
        ${this.editing ? this.#editor() : this.#content()}
        <div class="meta">${this.#reactions()}</div>
        ${this.inThread || m.parent_id !== null
          ? nothing
          : replyLine(
              { replyCount: m.reply_count, lastReplyAt: m.last_reply_at, participants: m.thread_participants, unread: this.threadUnread },
              this.nameOf,
              () => this.#emit({ action: 'thread', id: m.id }),
            )}
        ${m.state.state === 'rejected'
          ? html`<div class="rejected" role="alert" data-testid="rejected">
              ${icons.alert(15)}<span title=${`${m.state.code}: ${m.state.reason}`}>Not sent. ${describeRefusal(m.state)}</span>
              <button @click=${() => this.#emit({ action: 'retry', id: m.id })}>Retry</button>
              <button @click=${() => this.#emit({ action: 'discard', id: m.id })}>Discard</button>
            </div>`
          : nothing}
        ${this.readers.length > 0
          ? html`<div class="readers" data-testid="read-receipts" aria-label=${`Seen by ${this.readers.map((r) => r.name).join(', ')}`}>
              <span>Seen by</span>
              ${this.readers.slice(0, 5).map((r) => html`<parley-avatar .name=${r.name} .userKey=${r.id} size="16" title=${r.name}></parley-avatar>`)}
              ${this.readers.length > 5 ? html`<span>+${this.readers.length - 5}</span>` : nothing}
            </div>`
          : nothing}
      </div>
      ${m.is_deleted || this.editing || !(this.active || this.picking || this.confirmingDelete) ? nothing : this.#actions()}
    </article>`;
  }

  readonly #activate = (): void => {
    this.active = true;
  };

  /** Inactive once neither the pointer nor focus is in the row (a focus moving within it keeps it). */
  readonly #deactivate = (event: Event): void => {
    const row = event.currentTarget as HTMLElement;
    const next = event instanceof FocusEvent ? event.relatedTarget : null;
    if (next instanceof Node && row.contains(next)) return;
    if (event.type === 'focusout' ? row.matches(':hover') : row.matches(':focus-within')) return;
    this.active = false;
  };

  #content() {
    const m = this.message;
    if (m.is_deleted) return html`<div class="deleted" data-testid="deleted">This message was deleted${this.#state()}</div>`;
    // Cached per message: an unchanged message costs a map lookup, and lit skips the same HTML.
    const shown = renderMessage(m.id, m.content);
    const collapsed = shown.long && !this.expanded;
    return html`<div id="content" class="content ${shown.html === null ? '' : 'md'} ${shown.jumbo ? 'jumbo' : ''} ${collapsed ? 'collapsed' : ''}">${
        // unsafeHTML only on DOMPurify's output; everything else is a text binding.
        m.mentioned_users.length > 0
          ? mentionContent(m.id, m.content, shown.html, m.mentioned_users.map((id) => ({ name: this.nameOf(id), mine: id === this.myId })))
          : shown.html === null
            ? m.content
            : html`<div class="md-body">${unsafeHTML(shown.html)}</div>`
      }${m.is_edited ? html`<span class="edited" data-testid="edited">(edited)</span>` : nothing}${this.#state()}</div>
      ${m.attachments.length > 0 ? html`<parley-attachments .attachments=${m.attachments}></parley-attachments>` : nothing}
      ${shown.long
        ? html`<button class="more" aria-controls="content" aria-expanded=${String(this.expanded)} @click=${this.#toggleExpanded}>${this.expanded ? 'Show less' : 'Show more'}</button>`
        : nothing}`;
  }

  async #toggleExpanded(event: Event): Promise<void> {
    const button = event.currentTarget as HTMLElement;
    this.expanded = !this.expanded;
    await this.updateComplete;
    // Collapsing can pull the button far up, out of view: keep it (and the reader) in place.
    if (!this.expanded) button.scrollIntoView({ block: 'nearest' });
  }

  #state() {
    if (!this.mine) return nothing;
    switch (this.message.state.state) {
      case 'pending':
        return html`<span class="state pending" role="img" aria-label="Sending" title="Sending">${icons.clock(13)}</span>`;
      case 'sent':
        return html`<span class="state sent" role="img" aria-label="Sent" title="Sent">${icons.check(14)}</span>`;
      case 'rejected':
        return html`<span class="state" style="color:var(--danger)" role="img" aria-label="Not sent">${icons.alert(13)}</span>`;
    }
  }

  #reactions() {
    const entries = Object.entries(this.message.reactions).filter(([, users]) => users.length > 0);
    return entries.map(([reaction, users]) => {
      const names = users.map((id) => (id === this.myId ? 'You' : this.nameOf(id)));
      const mine = users.includes(this.myId);
      return html`<button
        class="reaction"
        data-reaction=${reaction}
        aria-pressed=${String(mine)}
        title=${names.join(', ')}
        aria-label=${`${reaction} ${users.length}: ${names.join(', ')}`}
        @click=${() => this.#emit({ action: 'react', id: this.message.id, reaction })}
      >
        <span>${reaction}</span><span class="count">${users.length}</span>
      </button>`;
    });
  }

  #actions() {
    const m = this.message;
    return html`<div class="actions" role="toolbar" aria-label="Message actions">
        <button class="icon-button" aria-label="Add reaction" aria-haspopup="menu" aria-expanded=${String(this.picking)} title="Add reaction" @click=${() => (this.picking = !this.picking)}>${icons.smile(17)}</button>
        ${this.inThread || m.state.state === 'rejected'
          ? nothing
          : html`${m.parent_id === null
                ? html`<button class="icon-button" aria-label="Reply in thread" title="Reply in thread" @click=${() => this.#emit({ action: 'thread', id: m.id })}>${icons.thread(16)}</button>`
                : nothing}
              <button class="icon-button" aria-label="Quote message" title="Quote" @click=${() => this.#emit({ action: 'quote', id: m.id })}>${icons.quote(16)}</button>`}
        ${this.mine ? html`<button class="icon-button" aria-label="Edit message" title="Edit" @click=${() => (this.editing = true)}>${icons.pencil(16)}</button>` : nothing}
        ${this.canDelete
          ? html`<button class="icon-button" aria-label=${m.pinned ? 'Unpin message' : 'Pin message'} title=${m.pinned ? 'Unpin' : 'Pin'} @click=${() => this.#emit({ action: m.pinned ? 'unpin' : 'pin', id: m.id })}>
              ${m.pinned ? '📍' : '📌'}
            </button>`
          : nothing}
        ${this.mine || this.canDelete ? html`<button class="icon-button" aria-label="Delete message" title="Delete" @click=${() => (this.confirmingDelete = true)}>${icons.trash(16)}</button>` : nothing}
      </div>
      ${this.confirmingDelete
        ? html`<div class="confirm" role="alertdialog" aria-label="Delete this message?">
            <span>Delete this message for everyone? This cannot be undone.</span>
            <button class="danger" @click=${() => {
              this.confirmingDelete = false;
              this.#emit({ action: 'delete', id: m.id });
            }}>Delete</button>
            <button @click=${() => (this.confirmingDelete = false)}>Cancel</button>
          </div>`
        : nothing}
      ${this.picking
        ? html`<parley-emoji-picker
            class="picker"
            @pick=${(e: CustomEvent<string>) => {
              this.picking = false;
              this.#emit({ action: 'react', id: m.id, reaction: e.detail });
            }}
            @close=${() => (this.picking = false)}
          ></parley-emoji-picker>`
        : nothing}`;
  }

  /** Pinned by an owner or admin (canDelete marks them: they also pin). */
  #pinMark() {
    const m = this.message;
    if (!m.pinned) return nothing;
    const by = m.pinned_by === this.myId ? 'you' : m.pinned_by ? this.nameOf(m.pinned_by) : 'someone';
    return html`<span class="pinned-mark" data-testid="pinned-mark" title=${`Pinned by ${by}`}>📌 Pinned</span>`;
  }

  #editor() {
    return html`<textarea aria-label="Edit message" .value=${this.message.content} @keydown=${this.#editKey}></textarea>
      <div class="edit-hint">Enter to save · Escape to cancel</div>`;
  }

  override updated(changed: Map<string, unknown>): void {
    if (changed.has('editing') && this.editing) {
      const area = this.renderRoot.querySelector('textarea');
      area?.focus();
      area?.setSelectionRange(area.value.length, area.value.length);
    }
  }

  #editKey(event: KeyboardEvent): void {
    if (event.key === 'Escape') {
      this.editing = false;
      return;
    }
    if (event.key !== 'Enter' || event.shiftKey || event.isComposing) return;
    event.preventDefault();
    const content = (event.target as HTMLTextAreaElement).value.trim();
    this.editing = false;
    if (content && content !== this.message.content) this.#emit({ action: 'edit', id: this.message.id, content });
  }

  #emit(detail: MessageAction): void {
    this.dispatchEvent(new CustomEvent<MessageAction>('message-action', { detail, bubbles: true, composed: true }));
  }
}
customElements.define('parley-message', ParleyMessage);
