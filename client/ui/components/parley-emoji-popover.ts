import { LitElement, css, html } from 'lit';
import type Picker from 'emoji-picker-element/picker';
import type { EmojiClickEvent } from 'emoji-picker-element/shared';
import { createEmojiPicker } from '../emoji/createEmojiPicker.ts';
import { base, tokens } from '../theme.ts';

/** Pixels between the button and the panel. */
const GAP = 6;
/** Pixels the panel keeps from the edges of the window. */
const MARGIN = 8;

/**
 * The full emoji picker (emoji-picker-element, loaded on first use) in a labelled dialog next to
 * the button that opened it (`anchor`). It sits in the top layer (a manual popover), so neither
 * the scrolling message list nor a transformed row clips it. Emits `pick` (detail: the emoji, in
 * the chosen skin tone) and `close`: on Escape, which also returns focus to `anchor`, and on a
 * press outside the dialog and the anchor (which toggles it itself).
 */
export class ParleyEmojiPopover extends LitElement {
  static override properties = {
    anchor: { attribute: false },
    label: {},
    placement: {},
    picker: { state: true },
    failed: { state: true },
  };
  declare anchor: HTMLElement | null;
  declare label: string;
  /** The side of the anchor it opens on when there is room; else the side with more room. */
  declare placement: 'below' | 'above';
  declare picker: Picker | null;
  declare failed: boolean;

  constructor() {
    super();
    this.anchor = null;
    this.label = 'Choose an emoji';
    this.placement = 'below';
    this.picker = null;
    this.failed = false;
  }

  static override styles = [
    tokens,
    base,
    css`
      :host {
        display: contents;
      }
      .panel {
        /* Undo the popover defaults (centred in the window, bordered): #place() positions it. */
        inset: auto;
        margin: 0;
        padding: 0;
        border: 0;
        background: transparent;
        overflow: visible;
        color: var(--text);
      }
      emoji-picker,
      .status {
        height: min(380px, calc(100vh - ${2 * MARGIN}px));
        max-width: calc(100vw - ${2 * MARGIN}px);
        border-radius: var(--radius-lg);
        box-shadow: var(--shadow);
      }
      /* The library's documented CSS custom properties, mapped to the app's tokens. */
      emoji-picker {
        --background: var(--bg);
        --border-color: var(--border);
        --border-radius: var(--radius-lg);
        --button-active-background: var(--bg-selected);
        --button-hover-background: var(--bg-hover);
        --category-font-color: var(--text-muted);
        --category-font-size: 13px;
        --indicator-color: var(--accent);
        --input-border-color: var(--border);
        --input-border-radius: var(--radius);
        --input-font-color: var(--text);
        --input-font-size: 14px;
        --input-padding: 5px 10px;
        --input-placeholder-color: var(--text-faint);
        --outline-color: var(--accent);
      }
      .status {
        display: grid;
        place-items: center;
        width: 344px;
        margin: 0;
        padding: 16px;
        text-align: center;
        font-size: 13px;
        color: var(--text-muted);
        background: var(--bg);
        border: 1px solid var(--border);
      }
    `,
  ];

  override connectedCallback(): void {
    super.connectedCallback();
    document.addEventListener('pointerdown', this.#pressed, true);
    window.addEventListener('resize', this.#place);
    if (!this.picker) void this.#load();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    document.removeEventListener('pointerdown', this.#pressed, true);
    window.removeEventListener('resize', this.#place);
  }

  override render() {
    return html`<div class="panel" popover="manual" role="dialog" aria-label=${this.label} @keydown=${this.#key}>
      ${this.picker ?? html`<p class="status" role="status">${this.failed ? 'The emoji could not be loaded. Try again once online.' : 'Loading emoji…'}</p>`}
    </div>`;
  }

  override firstUpdated(): void {
    this.#panel?.showPopover();
  }

  override updated(changed: Map<string, unknown>): void {
    this.#place();
    if (changed.has('picker')) this.picker?.shadowRoot?.querySelector('input')?.focus();
  }

  get #panel(): HTMLElement | null {
    return this.renderRoot.querySelector('.panel');
  }

  async #load(): Promise<void> {
    try {
      const picker = await createEmojiPicker();
      // The app has no dark theme yet: without this the picker would follow the system's.
      picker.classList.add('light');
      picker.addEventListener('emoji-click', this.#picked);
      this.picker = picker;
    } catch {
      this.failed = true;
    }
  }

  #picked = (event: EmojiClickEvent): void => {
    // Custom emoji (none are configured) have a name and no unicode: they cannot be sent as text.
    const emoji = event.detail.unicode;
    if (emoji) this.dispatchEvent(new CustomEvent('pick', { detail: emoji }));
  };

  #key(event: KeyboardEvent): void {
    // The picker handles Escape itself while its skin tone list is open, and cancels the event.
    if (event.key !== 'Escape' || event.defaultPrevented) return;
    event.preventDefault();
    event.stopPropagation();
    this.dispatchEvent(new CustomEvent('close'));
    this.anchor?.focus();
  }

  #pressed = (event: PointerEvent): void => {
    const path = event.composedPath();
    if (path.includes(this) || (this.anchor && path.includes(this.anchor))) return;
    this.dispatchEvent(new CustomEvent('close'));
  };

  #place = (): void => {
    const panel = this.#panel;
    if (!panel || !this.anchor) return;
    const at = this.anchor.getBoundingClientRect();
    const { width, height } = panel.getBoundingClientRect();
    const room = { below: innerHeight - at.bottom - GAP - MARGIN, above: at.top - GAP - MARGIN };
    const other = this.placement === 'below' ? 'above' : 'below';
    const side = room[this.placement] >= height || room[this.placement] >= room[other] ? this.placement : other;
    const top = side === 'below' ? at.bottom + GAP : at.top - GAP - height;
    const within = (value: number, max: number): number => Math.max(MARGIN, Math.min(value, max));
    panel.style.top = `${within(top, innerHeight - height - MARGIN)}px`;
    panel.style.left = `${within(at.right - width, innerWidth - width - MARGIN)}px`;
  };
}
customElements.define('parley-emoji-popover', ParleyEmojiPopover);
