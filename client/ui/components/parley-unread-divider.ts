import { LitElement, css, html } from 'lit';
import { tokens } from '../theme.ts';

/** "New messages": the line above the first message that was unread when the room opened. */
export class ParleyUnreadDivider extends LitElement {
  static override styles = [
    tokens,
    css`
      :host {
        display: flex;
        align-items: center;
        gap: 8px;
        margin: 10px 20px 2px;
        font-size: 12px;
        font-weight: 700;
        color: var(--danger);
      }
      :host::before {
        content: '';
        flex: 1;
        border-top: 1px solid var(--danger);
      }
    `,
  ];

  override render() {
    return html`New messages`;
  }
}

customElements.define('parley-unread-divider', ParleyUnreadDivider);
