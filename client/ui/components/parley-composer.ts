import { LitElement, css, html } from 'lit';
import { icons } from '../format/icons.ts';
import { base, tokens } from '../theme.ts';

/** Most lines the composer grows to before it scrolls. */
const MAX_ROWS = 8;

/** The message box: Enter sends (`send`, detail: text), Shift+Enter is a new line; emits `typing`. */
export class ParleyComposer extends LitElement {
  static override properties = { placeholder: {}, disabled: { type: Boolean } };
  declare placeholder: string;
  declare disabled: boolean;

  constructor() {
    super();
    this.placeholder = 'Write a message';
    this.disabled = false;
  }

  static override styles = [
    tokens,
    base,
    css`
      :host {
        display: block;
        padding: 0 16px 16px;
      }
      form {
        display: flex;
        align-items: flex-end;
        gap: 8px;
        border: 1px solid #d6d6de;
        border-radius: var(--radius-lg);
        background: var(--bg);
        padding: 6px 6px 6px 14px;
        transition: border-color 0.12s, box-shadow 0.12s;
      }
      form:focus-within {
        border-color: var(--accent);
        box-shadow: var(--focus);
      }
      textarea {
        flex: 1;
        border: 0;
        padding: 7px 0;
        resize: none;
        line-height: 1.45;
        max-height: calc(1.45em * ${MAX_ROWS} + 14px);
        background: transparent;
      }
      textarea:focus,
      textarea:focus-visible {
        box-shadow: none;
        border: 0;
      }
      .send {
        display: grid;
        place-items: center;
        width: 36px;
        height: 36px;
        border: 0;
        border-radius: 9px;
        background: var(--accent);
        color: #fff;
      }
      .send:disabled {
        background: #d9d9e3;
        cursor: default;
      }
      .hint {
        font-size: 11px;
        color: var(--text-faint);
        margin: 5px 4px 0;
      }
      @media (max-width: 720px) {
        .hint {
          display: none;
        }
      }
    `,
  ];

  override render() {
    return html`<form @submit=${this.#submit}>
        <textarea rows="1" aria-label="Message" placeholder=${this.placeholder} ?disabled=${this.disabled} @keydown=${this.#key} @input=${this.#input}></textarea>
        <button class="send" type="submit" aria-label="Send message" title="Send">${icons.send(17)}</button>
      </form>
      <div class="hint" aria-hidden="true"><b>Enter</b> to send · <b>Shift + Enter</b> for a new line</div>`;
  }

  override focus(): void {
    this.renderRoot.querySelector('textarea')?.focus();
  }

  get #area(): HTMLTextAreaElement | null {
    return this.renderRoot.querySelector('textarea');
  }

  #key(event: KeyboardEvent): void {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      this.#send();
    }
  }

  #input(): void {
    const area = this.#area;
    if (!area) return;
    area.style.height = 'auto';
    area.style.height = `${area.scrollHeight}px`;
    if (area.value.trim() !== '') this.dispatchEvent(new CustomEvent('typing'));
  }

  #submit(event: SubmitEvent): void {
    event.preventDefault();
    this.#send();
  }

  #send(): void {
    const area = this.#area;
    const content = area?.value.trim() ?? '';
    if (!area || content === '') return;
    area.value = '';
    area.style.height = 'auto';
    this.dispatchEvent(new CustomEvent('send', { detail: content }));
  }
}
customElements.define('parley-composer', ParleyComposer);
