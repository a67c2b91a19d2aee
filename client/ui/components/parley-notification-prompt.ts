import { LitElement, css, html } from 'lit';
import { icons } from '../format/icons.ts';
import { base, tokens } from '../theme.ts';

/**
 * The offer to turn notifications on (NotificationController decides when it shows): "Turn on"
 * lets the browser ask for permission, in the click that pressed it; "Not now" puts it away.
 * Emits `enable` and `dismiss`.
 */
export class ParleyNotificationPrompt extends LitElement {
  static override styles = [
    tokens,
    base,
    css`
      :host {
        display: block;
        margin: 8px 12px;
      }
      section {
        display: grid;
        grid-template-columns: auto 1fr;
        gap: 4px 10px;
        padding: 12px;
        border: 1px solid var(--border);
        border-radius: var(--radius);
        background: var(--accent-soft);
        font-size: 13px;
      }
      .icon {
        color: var(--accent);
        grid-row: span 2;
        padding-top: 1px;
      }
      p {
        margin: 0;
        color: var(--text);
        line-height: 1.4;
      }
      .actions {
        display: flex;
        gap: 8px;
        margin-top: 6px;
      }
      .primary,
      .secondary {
        padding: 6px 12px;
        font-size: 13px;
        white-space: nowrap;
      }
    `,
  ];

  override render() {
    return html`<section aria-label="Notifications" data-testid="notification-prompt">
      <span class="icon">${icons.bell(18)}</span>
      <p>Get a notification for mentions and direct messages while Parley is in the background.</p>
      <div class="actions">
        <button class="primary" aria-label="Turn on notifications" @click=${() => this.#emit('enable')}>Turn on</button>
        <button class="secondary" @click=${() => this.#emit('dismiss')}>Not now</button>
      </div>
    </section>`;
  }

  #emit(name: string): void {
    this.dispatchEvent(new CustomEvent(name));
  }
}
customElements.define('parley-notification-prompt', ParleyNotificationPrompt);
