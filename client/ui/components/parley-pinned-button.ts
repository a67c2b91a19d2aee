import { LitElement, css, html, nothing } from 'lit';
import type { ClientMessage } from '../../room/ChatRoom.ts';
import { clockTime } from '../format/formatTime.ts';
import { base, tokens } from '../theme.ts';

/**
 * The room header's "Pinned" button and its list of the room's pinned messages, newest pin first:
 * a click on one emits `jump` (detail: the message id) and closes the list; Escape closes it too.
 */
export class ParleyPinnedButton extends LitElement {
  static override properties = { messages: { attribute: false }, nameOf: { attribute: false }, open: { state: true } };
  declare messages: readonly ClientMessage[];
  declare nameOf: (userId: string) => string;
  declare open: boolean;

  constructor() {
    super();
    this.messages = [];
    this.nameOf = (id) => id;
    this.open = false;
  }

  static override styles = [
    tokens,
    base,
    css`
      :host {
        position: relative;
        display: inline-block;
      }
      .toggle {
        display: inline-flex;
        align-items: center;
        gap: 4px;
        height: 32px;
        padding: 0 8px;
        font-size: 13px;
      }
      .toggle[aria-expanded='true'] {
        background: var(--bg-selected);
        color: var(--accent);
      }
      .panel {
        position: absolute;
        right: 0;
        top: calc(100% + 4px);
        z-index: 10;
        width: min(360px, 90vw);
        max-height: 60vh;
        overflow: auto;
        background: var(--bg);
        border: 1px solid #d6d6de;
        border-radius: var(--radius-lg);
        box-shadow: 0 8px 28px rgb(0 0 0 / 14%);
        padding: 6px;
      }
      h3 {
        font-size: 13px;
        margin: 4px 6px 8px;
      }
      ul {
        list-style: none;
        margin: 0;
        padding: 0;
      }
      li button {
        display: block;
        width: 100%;
        text-align: left;
        border: 0;
        background: transparent;
        padding: 6px 8px;
        border-radius: 6px;
      }
      li button:hover,
      li button:focus-visible {
        background: var(--bg-selected);
      }
      .who {
        font-size: 12px;
        color: var(--text-muted);
      }
      .text {
        display: -webkit-box;
        -webkit-line-clamp: 2;
        -webkit-box-orient: vertical;
        overflow: hidden;
        white-space: pre-wrap;
      }
      .empty {
        color: var(--text-muted);
        padding: 6px 8px;
        font-size: 13px;
      }
    `,
  ];

  override render() {
    const count = this.messages.length;
    return html`<button
        class="icon-button toggle"
        aria-haspopup="dialog"
        aria-expanded=${String(this.open)}
        aria-label=${`Pinned messages (${count})`}
        title="Pinned messages"
        data-testid="pinned-toggle"
        @click=${() => (this.open = !this.open)}
      >
        📌<span aria-hidden="true">${count || ''}</span>
      </button>
      ${this.open
        ? html`<div class="panel" role="dialog" aria-label="Pinned messages" data-testid="pinned-panel" @keydown=${(e: KeyboardEvent) => e.key === 'Escape' && (this.open = false)}>
            <h3>Pinned messages</h3>
            ${count === 0
              ? html`<div class="empty">Nothing pinned yet. Owners and admins pin messages from a message's actions.</div>`
              : html`<ul>
                  ${this.messages.map(
                    (m) => html`<li>
                      <button data-testid="pinned-item" @click=${() => this.#jump(m.id)}>
                        <div class="who">${m.sender_name ?? (m.sender_id ? this.nameOf(m.sender_id) : 'Unknown')} · ${clockTime(m.created_at)}</div>
                        <div class="text">${m.content}</div>
                      </button>
                    </li>`,
                  )}
                </ul>`}
          </div>`
        : nothing}`;
  }

  #jump(id: string): void {
    this.open = false;
    this.dispatchEvent(new CustomEvent<string>('jump', { detail: id }));
  }
}
customElements.define('parley-pinned-button', ParleyPinnedButton);
