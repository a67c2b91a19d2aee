import { LitElement, css, html } from 'lit';
import { base, tokens } from '../theme.ts';

/** The reactions on offer: a short list people actually use, not a full emoji keyboard. */
export const QUICK_REACTIONS = ['👍', '❤️', '😂', '🎉', '😮', '😢', '🙏', '👀'] as const;

/** A small popover of reactions; emits `pick` (detail: the emoji) or `close` (Escape). */
export class ParleyEmojiPicker extends LitElement {
  static override styles = [
    tokens,
    base,
    css`
      :host {
        display: block;
      }
      div {
        display: flex;
        gap: 2px;
        padding: 4px;
        background: var(--bg);
        border: 1px solid var(--border);
        border-radius: var(--radius-lg);
        box-shadow: var(--shadow);
      }
      button {
        width: 34px;
        height: 34px;
        border: 0;
        border-radius: 8px;
        background: transparent;
        font-size: 19px;
        line-height: 1;
      }
      button:hover,
      button:focus-visible {
        background: var(--bg-hover);
        transform: scale(1.12);
      }
    `,
  ];

  override firstUpdated(): void {
    this.renderRoot.querySelector('button')?.focus();
  }

  override render() {
    return html`<div role="menu" aria-label="Add a reaction" @keydown=${this.#key}>
      ${QUICK_REACTIONS.map((emoji) => html`<button role="menuitem" aria-label=${`React with ${emoji}`} @click=${() => this.dispatchEvent(new CustomEvent('pick', { detail: emoji }))}>${emoji}</button>`)}
    </div>`;
  }

  #key(event: KeyboardEvent): void {
    if (event.key === 'Escape') {
      event.stopPropagation();
      this.dispatchEvent(new CustomEvent('close'));
      return;
    }
    if (event.key !== 'ArrowRight' && event.key !== 'ArrowLeft') return;
    const buttons = [...this.renderRoot.querySelectorAll('button')];
    const at = buttons.indexOf(this.renderRoot.querySelector('button:focus') as HTMLButtonElement);
    buttons[(at + (event.key === 'ArrowRight' ? 1 : buttons.length - 1)) % buttons.length]?.focus();
  }
}
customElements.define('parley-emoji-picker', ParleyEmojiPicker);
