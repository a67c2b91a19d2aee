import { LitElement, css, html, nothing } from 'lit';
import { icons } from '../format/icons.ts';
import { base, tokens } from '../theme.ts';

/**
 * "Jump to first unread", floating at the top of the message list while the first unread message
 * is outside the rendered window. Emits `jump` and `dismiss`.
 */
export class ParleyUnreadJump extends LitElement {
  static override properties = { count: { type: Number } };
  /** Unread messages when the room opened; 0: not known, not shown. */
  declare count: number;

  constructor() {
    super();
    this.count = 0;
  }

  static override styles = [
    tokens,
    base,
    css`
      :host {
        position: absolute;
        top: 10px;
        left: 50%;
        transform: translateX(-50%);
        display: inline-flex;
        align-items: center;
        border-radius: 18px;
        background: var(--accent);
        color: #fff;
        box-shadow: var(--shadow);
        font-size: 13px;
        font-weight: 600;
        white-space: nowrap;
      }
      .jump {
        display: inline-flex;
        align-items: center;
        gap: 6px;
        border: 0;
        background: transparent;
        color: inherit;
        padding: 7px 4px 7px 12px;
        font: inherit;
      }
      .icon-button {
        width: 28px;
        height: 28px;
        color: inherit;
      }
      .icon-button:hover {
        background: var(--accent-hover);
        color: inherit;
      }
    `,
  ];

  override render() {
    return html`<button class="jump" @click=${() => this.dispatchEvent(new CustomEvent('jump'))}>
        ${icons.arrowUp(15)} Jump to first unread${this.count > 0 ? html`<span>· ${this.count} new</span>` : nothing}
      </button>
      <button class="icon-button" aria-label="Dismiss jump to first unread" @click=${() => this.dispatchEvent(new CustomEvent('dismiss'))}>${icons.x(14)}</button>`;
  }
}

customElements.define('parley-unread-jump', ParleyUnreadJump);
