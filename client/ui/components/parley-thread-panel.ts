import { LitElement, css, html, nothing, type PropertyValues } from 'lit';
import { repeat } from 'lit/directives/repeat.js';
import type { ChatRoom } from '../../room/ChatRoom.ts';
import { ThreadController } from '../controllers/ThreadController.ts';
import { dayLabel } from '../format/formatTime.ts';
import { icons } from '../format/icons.ts';
import { layoutMessages } from '../format/messageRows.ts';
import { base, sidePanel, tokens } from '../theme.ts';
import './parley-composer.ts';
import './parley-message.ts';
import { ComposerSendEvent } from './ComposerSendEvent.ts';
import type { MentionCandidate } from './parley-mention-picker.ts';

/** A reply the panel's composer asks the room view to send. */
export interface ThreadSend {
  readonly rootId: string;
  readonly content: string;
  readonly mentionedUsers: readonly string[];
  readonly files: readonly File[];
  /** "Also send to room" was ticked: the reply shows in the main timeline too. */
  readonly showInChannel: boolean;
}

/**
 * The thread beside the room: its root, its replies (newest at the bottom, earlier ones on
 * request) and a composer of its own with "Also send to room". Emits `thread-send` (ThreadSend),
 * `close`, and lets its rows' `message-action` events bubble to the room view.
 */
export class ParleyThreadPanel extends LitElement {
  static override properties = {
    room: { attribute: false },
    rootId: { attribute: false },
    myId: { attribute: false },
    isManager: { type: Boolean },
    nameOf: { attribute: false },
    members: { attribute: false },
    readOnly: { type: Boolean, attribute: 'read-only' },
    alsoToRoom: { state: true },
  };
  declare room: ChatRoom | null;
  declare rootId: string | null;
  declare myId: string;
  declare isManager: boolean;
  declare nameOf: (userId: string) => string;
  declare members: readonly MentionCandidate[];
  declare readOnly: boolean;
  declare alsoToRoom: boolean;
  readonly #thread = new ThreadController(this);
  /** Whether the replies were scrolled to the newest before this update (then they stay there). */
  #atBottom = true;

  constructor() {
    super();
    this.room = null;
    this.rootId = null;
    this.myId = '';
    this.isManager = false;
    this.nameOf = (id) => id;
    this.members = [];
    this.readOnly = false;
    this.alsoToRoom = false;
  }

  static override styles = [
    tokens,
    base,
    sidePanel,
    css`
      .body {
        padding-bottom: 12px;
      }
      .count {
        display: flex;
        align-items: center;
        gap: 10px;
        margin: 8px 16px;
        font-size: 12px;
        color: var(--text-muted);
      }
      .count::after {
        content: '';
        flex: 1;
        border-top: 1px solid var(--border);
      }
      .older {
        display: block;
        margin: 8px auto;
        border: 1px solid var(--border);
        border-radius: 6px;
        background: var(--bg);
        padding: 4px 12px;
        font-size: 12px;
      }
      .loading {
        padding: 16px;
        color: var(--text-muted);
        font-size: 13px;
      }
      label {
        display: flex;
        align-items: center;
        gap: 6px;
        margin: 0 4px 6px;
        font-size: 12px;
        color: var(--text-muted);
      }
    `,
  ];

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('room') || changed.has('rootId')) {
      if (changed.has('rootId')) [this.alsoToRoom, this.#atBottom] = [false, true];
      this.#thread.show(this.room, this.rootId);
    }
    const body = this.renderRoot.querySelector<HTMLElement>('.body');
    if (body) this.#atBottom = body.scrollHeight - body.scrollTop - body.clientHeight < 40;
  }

  protected override updated(): void {
    const body = this.renderRoot.querySelector<HTMLElement>('.body');
    if (body && this.#atBottom) body.scrollTop = body.scrollHeight;
    if (this.#atBottom) this.#thread.markSeen();
  }

  override render() {
    const t = this.#thread;
    const count = t.root?.reply_count ?? t.replies.length;
    return html`<header>
        <h2 id="thread-title">Thread</h2>
        <button class="icon-button" aria-label="Close thread" @click=${() => this.dispatchEvent(new CustomEvent('close'))}>${icons.x(17)}</button>
      </header>
      <div class="body" role="log" aria-labelledby="thread-title" data-testid="thread-replies" @scroll=${() => this.#scrolled()}>
        ${t.root ? this.#row(t.root, true) : html`<div class="loading">Loading the thread…</div>`}
        <div class="count" role="separator">${count} ${count === 1 ? 'reply' : 'replies'}</div>
        ${t.hasOlder ? html`<button class="older" @click=${() => t.loadOlder()}>Earlier replies</button>` : nothing}
        ${repeat(
          layoutMessages(t.replies, (iso) => dayLabel(iso)),
          (row) => row.message.id,
          (row) => this.#row(row.message, row.groupStart),
        )}
      </div>
      ${this.readOnly
        ? nothing
        : html`<parley-composer placeholder="Reply in thread" .members=${this.members} @send=${(e: CustomEvent<string>) => this.#send(e)}>
            <label slot="context"><input type="checkbox" .checked=${this.alsoToRoom} @change=${(e: Event) => (this.alsoToRoom = (e.target as HTMLInputElement).checked)} />Also send to room</label>
          </parley-composer>`}`;
  }

  #row(message: NonNullable<ThreadController['root']>, groupStart: boolean) {
    return html`<parley-message
      in-thread
      data-message-id=${message.id}
      data-state=${message.state.state}
      .message=${message}
      .groupStart=${groupStart}
      .mine=${message.sender_id === this.myId}
      .canDelete=${this.isManager}
      .nameOf=${this.nameOf}
      .myId=${this.myId}
    ></parley-message>`;
  }

  override focus(): void {
    this.renderRoot.querySelector<HTMLElement>('parley-composer')?.focus();
  }

  #scrolled(): void {
    const body = this.renderRoot.querySelector<HTMLElement>('.body');
    if (body && body.scrollHeight - body.scrollTop - body.clientHeight < 40) this.#thread.markSeen();
  }

  #send(event: CustomEvent<string>): void {
    const rootId = this.rootId;
    if (!rootId) return;
    const detail: ThreadSend = {
      rootId,
      content: event.detail,
      mentionedUsers: event instanceof ComposerSendEvent ? event.mentionedUsers : [],
      files: event instanceof ComposerSendEvent ? event.files : [],
      showInChannel: this.alsoToRoom,
    };
    this.alsoToRoom = false;
    this.#atBottom = true;
    this.dispatchEvent(new CustomEvent<ThreadSend>('thread-send', { detail }));
  }
}
customElements.define('parley-thread-panel', ParleyThreadPanel);
