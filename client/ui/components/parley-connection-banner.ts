import { LitElement, css, html, nothing } from 'lit';
import type { ConnectionState } from '../../sync/RoomConnection.ts';
import { icons } from '../format/icons.ts';

/** Says when the app is offline or reconnecting; nothing while online. */
export class ParleyConnectionBanner extends LitElement {
  static override properties = { state: { reflect: true } };
  declare state: ConnectionState;

  constructor() {
    super();
    this.state = 'connecting';
  }

  static override styles = css`
    :host {
      display: block;
    }
    .banner {
      display: flex;
      align-items: center;
      justify-content: center;
      gap: 8px;
      padding: 7px 12px;
      font-size: 13px;
      font-weight: 500;
    }
    .offline {
      background: #2b2b33;
      color: #f4f4f6;
    }
    .connecting {
      background: var(--warning-soft);
      color: var(--warning);
    }
    .spinner {
      width: 12px;
      height: 12px;
      border-radius: 50%;
      border: 2px solid currentColor;
      border-right-color: transparent;
      animation: spin 0.9s linear infinite;
    }
    @keyframes spin {
      to {
        transform: rotate(360deg);
      }
    }
  `;

  override render() {
    switch (this.state) {
      case 'online':
        return nothing;
      case 'offline':
        return html`<div class="banner offline" role="status" data-testid="connection-banner" data-state="offline">${icons.wifiOff(15)} You are offline. Messages will be sent when you reconnect.</div>`;
      case 'connecting':
        return html`<div class="banner connecting" role="status" data-testid="connection-banner" data-state="connecting"><span class="spinner" aria-hidden="true"></span> Reconnecting…</div>`;
    }
  }
}
customElements.define('parley-connection-banner', ParleyConnectionBanner);
