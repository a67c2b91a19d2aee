import { LitElement, css, html, nothing } from 'lit';
import { avatarColor, initials } from '../format/avatar.ts';

/** A round avatar with initials on a per-user colour, and an optional presence dot. */
export class ParleyAvatar extends LitElement {
  static override properties = {
    name: {},
    userKey: { attribute: 'user-key' },
    size: { type: Number },
    online: { type: Boolean },
    showPresence: { type: Boolean, attribute: 'show-presence' },
  };
  declare name: string;
  declare userKey: string;
  declare size: number;
  declare online: boolean;
  declare showPresence: boolean;

  constructor() {
    super();
    this.name = '';
    this.userKey = '';
    this.size = 36;
    this.online = false;
    this.showPresence = false;
  }

  static override styles = css`
    :host {
      display: inline-block;
      position: relative;
      flex: none;
    }
    .face {
      display: grid;
      place-items: center;
      border-radius: 30%;
      color: #fff;
      font-weight: 600;
      letter-spacing: 0.02em;
      user-select: none;
    }
    .dot {
      position: absolute;
      right: -2px;
      bottom: -2px;
      width: 30%;
      height: 30%;
      min-width: 9px;
      min-height: 9px;
      border-radius: 50%;
      border: 2px solid var(--dot-ring, #fff);
      background: #b4b4be;
    }
    .dot.on {
      background: var(--online, #22a55b);
    }
  `;

  override render() {
    const size = `${this.size}px`;
    return html`<div class="face" aria-hidden="true" style="width:${size};height:${size};font-size:${Math.round(this.size * 0.4)}px;background:${avatarColor(this.userKey || this.name)}">${initials(this.name)}</div>${this.showPresence
        ? html`<span class="dot ${this.online ? 'on' : ''}" data-testid="presence-dot" data-online=${String(this.online)}></span>`
        : nothing}`;
  }
}
customElements.define('parley-avatar', ParleyAvatar);
