import { LitElement, css, html } from 'lit';
import { icons } from '../format/icons.ts';
import { base, tokens } from '../theme.ts';

/**
 * The room header's bell: mutes or unmutes the room's notifications for me, on all my devices.
 * Emits `mute-room` (bubbling, composed; detail { roomId, muted }) for the app to carry out.
 */
export class ParleyMuteToggle extends LitElement {
  static override properties = { roomId: { attribute: false }, muted: { type: Boolean } };
  declare roomId: string | null;
  declare muted: boolean;

  constructor() {
    super();
    this.roomId = null;
    this.muted = false;
  }

  static override styles = [
    tokens,
    base,
    css`
      :host {
        display: inline-block;
      }
      button[aria-pressed='true'] {
        color: var(--accent);
      }
    `,
  ];

  override render() {
    return html`<button
      class="icon-button"
      aria-pressed=${String(this.muted)}
      aria-label=${this.muted ? 'Unmute notifications' : 'Mute notifications'}
      title=${this.muted ? 'Muted: no notifications from this room on any of your devices' : 'Mute notifications from this room'}
      @click=${() => this.roomId && this.dispatchEvent(new CustomEvent('mute-room', { detail: { roomId: this.roomId, muted: !this.muted }, bubbles: true, composed: true }))}
    >
      ${this.muted ? icons.bellOff(17) : icons.bell(17)}
    </button>`;
  }
}
customElements.define('parley-mute-toggle', ParleyMuteToggle);
