import { LitElement, css, html } from 'lit';
import { repeat } from 'lit/directives/repeat.js';
import type { Toast } from '../controllers/SessionController.ts';
import { icons } from '../format/icons.ts';
import { base, tokens } from '../theme.ts';

/** Error toasts (storage full, signed out), each dismissable; emits `dismiss` with the toast id. */
export class ParleyToasts extends LitElement {
  static override properties = { toasts: { attribute: false } };
  declare toasts: readonly Toast[];

  constructor() {
    super();
    this.toasts = [];
  }

  static override styles = [
    tokens,
    base,
    css`
      :host {
        position: fixed;
        z-index: 50;
        right: 16px;
        bottom: 16px;
        left: 16px;
        display: flex;
        flex-direction: column;
        align-items: flex-end;
        gap: 8px;
        pointer-events: none;
      }
      .toast {
        pointer-events: auto;
        display: flex;
        align-items: flex-start;
        gap: 10px;
        max-width: 420px;
        background: #2b2b33;
        color: #fff;
        border-radius: var(--radius-lg);
        box-shadow: var(--shadow);
        padding: 12px 8px 12px 14px;
        font-size: 14px;
        line-height: 1.4;
      }
      .toast svg {
        flex: none;
        margin-top: 1px;
        color: #fbbf24;
      }
      .icon-button {
        color: #c8c8d0;
        flex: none;
        width: 26px;
        height: 26px;
      }
      .icon-button:hover {
        background: rgb(255 255 255 / 12%);
        color: #fff;
      }
    `,
  ];

  override render() {
    return html`${repeat(
      this.toasts,
      (t) => t.id,
      (t) => html`<div class="toast" role="alert" data-testid="toast">
        ${icons.alert(18)}<span>${t.text}</span>
        <button class="icon-button" aria-label="Dismiss" @click=${() => this.dispatchEvent(new CustomEvent('dismiss', { detail: t.id }))}>${icons.x(16)}</button>
      </div>`,
    )}`;
  }
}
customElements.define('parley-toasts', ParleyToasts);
