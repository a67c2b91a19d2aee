import { LitElement, css, html, nothing } from 'lit';
import { icons } from '../format/icons.ts';
import { loadRecentReactions, quickReactions, rememberReaction } from '../emoji/recentReactions.ts';
import { base, tokens } from '../theme.ts';
import './parley-emoji-popover.ts';

export { QUICK_REACTIONS } from '../emoji/recentReactions.ts';

/**
 * The reaction popover: a one-click row (this device's recent reactions first, then the defaults)
 * and "More emoji", which opens the full picker. Emits `pick` (detail: the emoji), which also
 * makes it the most recent, or `close` (Escape), which returns focus to the button that opened it.
 */
export class ParleyEmojiPicker extends LitElement {
  static override properties = { row: { state: true }, more: { state: true } };
  declare row: readonly string[];
  /** The full picker is open. */
  declare more: boolean;
  /** What had focus when this opened: normally the "Add reaction" button. */
  #opener: HTMLElement | null = null;

  constructor() {
    super();
    this.row = quickReactions(loadRecentReactions());
    this.more = false;
  }

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
        display: grid;
        place-items: center;
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
      .more {
        color: var(--text-muted);
        border-left: 1px solid var(--border);
        border-radius: 0 8px 8px 0;
      }
      .more[aria-expanded='true'] {
        background: var(--bg-selected);
        color: var(--accent);
      }
    `,
  ];

  override connectedCallback(): void {
    super.connectedCallback();
    this.#opener = deepActiveElement();
  }

  override firstUpdated(): void {
    this.renderRoot.querySelector('button')?.focus();
  }

  override render() {
    return html`<div role="menu" aria-label="Add a reaction" @keydown=${this.#key}>
        ${this.row.map((emoji) => html`<button role="menuitem" aria-label=${`React with ${emoji}`} @click=${() => this.#pick(emoji)}>${emoji}</button>`)}
        <button class="more" role="menuitem" aria-label="More emoji" title="More emoji" aria-haspopup="dialog" aria-expanded=${String(this.more)} @click=${() => (this.more = !this.more)}>
          ${icons.plus(16)}
        </button>
      </div>
      ${this.more
        ? html`<parley-emoji-popover
            label="React with any emoji"
            .anchor=${this.renderRoot.querySelector<HTMLElement>('.more')}
            @pick=${(e: CustomEvent<string>) => this.#pick(e.detail)}
            @close=${() => (this.more = false)}
          ></parley-emoji-popover>`
        : nothing}`;
  }

  #pick(emoji: string): void {
    this.row = quickReactions(rememberReaction(emoji));
    this.dispatchEvent(new CustomEvent('pick', { detail: emoji }));
  }

  #key(event: KeyboardEvent): void {
    if (event.key === 'Escape') {
      event.stopPropagation();
      this.dispatchEvent(new CustomEvent('close'));
      this.#opener?.focus();
      return;
    }
    if (event.key !== 'ArrowRight' && event.key !== 'ArrowLeft') return;
    const buttons = [...this.renderRoot.querySelectorAll('button')];
    const at = buttons.indexOf(this.renderRoot.querySelector('button:focus') as HTMLButtonElement);
    buttons[(at + (event.key === 'ArrowRight' ? 1 : buttons.length - 1)) % buttons.length]?.focus();
  }
}

/** The focused element, looking inside open shadow roots (document.activeElement stops at the first host). */
function deepActiveElement(): HTMLElement | null {
  let active = document.activeElement;
  while (active?.shadowRoot?.activeElement) active = active.shadowRoot.activeElement;
  return active instanceof HTMLElement && active !== document.body ? active : null;
}
customElements.define('parley-emoji-picker', ParleyEmojiPicker);
