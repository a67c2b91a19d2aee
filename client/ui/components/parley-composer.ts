import { LitElement, css, html, nothing } from 'lit';
import { MAX_CONTENT_LENGTH } from '../../../shared/models/chatMessage.ts';
import { icons } from '../format/icons.ts';
import { base, tokens } from '../theme.ts';
import './parley-emoji-popover.ts';
import { ComposerSendEvent } from './ComposerSendEvent.ts';
import { type MentionCandidate, filterCandidates } from './parley-mention-picker.ts';
import { mentionQueryAt, mentionedIn } from '../format/mentions.ts';
import './parley-draft-files.ts';
import type { ParleyDraftFiles } from './parley-draft-files.ts';

/** Most lines the composer grows to before it scrolls. */
const MAX_ROWS = 8;
/** The character counter shows from this close to the limit. */
const COUNTER_FROM = MAX_CONTENT_LENGTH - 1_000;

/**
 * The message box: Enter sends (`send`, detail: text), Shift+Enter is a new line; emits `typing`.
 * Near the length limit a counter shows; over it the draft stays and cannot be sent.
 * Whitespace alone is never sent: the box is cleared. The emoji button opens the full picker; a
 * pick goes in at the caret. `@` and letters list the room's `members` to mention (up/down,
 * Enter or Tab picks, Escape closes); `send` is a ComposerSendEvent carrying the picked mentions.
 * The `context` slot, above the box, says what a send goes with (the message quoted, a checkbox).
 * Files come by the paperclip, a paste or a drop (`addFiles`); they show as chips above the box
 * (images with a preview) and go with the next send, the text as their caption.
 */
export class ParleyComposer extends LitElement {
  static override properties = {
    placeholder: {},
    disabled: { type: Boolean },
    length: { state: true },
    picking: { state: true },
    members: { attribute: false },
    mentionQuery: { state: true },
    mentionActive: { state: true },
  };
  /** Who may be mentioned (the room's other active members). */
  declare members: readonly MentionCandidate[];
  /** The `@` word being typed before the caret, while the list is open. */
  declare mentionQuery: { readonly start: number; readonly query: string } | null;
  declare mentionActive: number;
  /** Mentions picked in this draft: user id -> the name inserted. */
  readonly #mentions = new Map<string, string>();
  declare placeholder: string;
  declare disabled: boolean;
  declare length: number;
  /** The emoji picker is open. */
  declare picking: boolean;

  constructor() {
    super();
    this.placeholder = 'Write a message';
    this.disabled = false;
    this.length = 0;
    this.picking = false;
    this.members = [];
    this.mentionQuery = null;
    this.mentionActive = 0;
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
      .emoji {
        width: 36px;
        height: 36px;
      }
      .emoji[aria-expanded='true'] {
        background: var(--bg-selected);
        color: var(--accent);
      }
      .attach {
        width: 36px;
        height: 36px;
      }
      .hint {
        display: flex;
        gap: 8px;
        font-size: 11px;
        color: var(--text-faint);
        margin: 5px 4px 0;
      }
      .counter {
        margin-left: auto;
        font-variant-numeric: tabular-nums;
      }
      .counter.over {
        color: var(--danger);
        font-weight: 600;
      }
      @media (max-width: 720px) {
        .hint {
          display: none;
        }
      }
    `,
  ];

  override render() {
    const over = this.length > MAX_CONTENT_LENGTH;
    const options = this.#options();
    return html`${options.length > 0
        ? html`<parley-mention-picker .options=${options} .active=${this.mentionActive} @pick=${(e: CustomEvent<MentionCandidate>) => this.#pickMention(e.detail)}></parley-mention-picker>`
        : nothing}<slot name="context"></slot><parley-draft-files></parley-draft-files><form @submit=${this.#submit}>
        <input type="file" multiple hidden data-testid="file-input" @change=${this.#picked} />
        <button class="icon-button attach" type="button" aria-label="Attach files" title="Attach files" ?disabled=${this.disabled} @click=${() => this.renderRoot.querySelector<HTMLInputElement>('input[type=file]')?.click()}>
          ${icons.paperclip(19)}
        </button>
        <textarea
          rows="1"
          aria-label="Message"
          placeholder=${this.placeholder}
          ?disabled=${this.disabled}
          aria-autocomplete="list"
          aria-expanded=${String(options.length > 0)}
          aria-controls=${options.length > 0 ? 'mention-list' : nothing}
          @keydown=${this.#key}
          @paste=${this.#paste}
          @input=${this.#input}
          @click=${this.#input}
        ></textarea>
        <button
          class="icon-button emoji"
          type="button"
          aria-label="Insert emoji"
          title="Emoji"
          aria-haspopup="dialog"
          aria-expanded=${String(this.picking)}
          ?disabled=${this.disabled}
          @click=${() => (this.picking = !this.picking)}
        >
          ${icons.smile(19)}
        </button>
        <button class="send" type="submit" aria-label="Send message" title=${over ? 'Too long to send' : 'Send'} ?disabled=${over}>${icons.send(17)}</button>
      </form>
      <div class="hint">
        <span aria-hidden="true"><b>Enter</b> to send · <b>Shift + Enter</b> for a new line</span>
        ${this.length >= COUNTER_FROM
          ? html`<span class="counter ${over ? 'over' : ''}" data-testid="composer-counter" role=${over ? 'alert' : nothing}
              >${over ? `${(this.length - MAX_CONTENT_LENGTH).toLocaleString()} characters too long · ` : ''}${this.length.toLocaleString()} / ${MAX_CONTENT_LENGTH.toLocaleString()}</span
            >`
          : nothing}
      </div>
      ${this.picking
        ? html`<parley-emoji-popover
            label="Insert an emoji"
            placement="above"
            .anchor=${this.renderRoot.querySelector<HTMLElement>('.emoji')}
            @pick=${(e: CustomEvent<string>) => this.#insert(e.detail)}
            @close=${() => (this.picking = false)}
          ></parley-emoji-popover>`
        : nothing}`;
  }

  /** Attaches files to the draft (the paperclip, a paste, a drop on the room). */
  addFiles(files: Iterable<File>): void {
    this.#draftFiles?.add(files);
    this.focus();
  }

  get #draftFiles(): ParleyDraftFiles | null {
    return this.renderRoot.querySelector('parley-draft-files');
  }

  #picked(event: Event): void {
    const input = event.target as HTMLInputElement;
    if (input.files) this.addFiles(input.files);
    input.value = '';
  }

  /** A pasted image or file attaches it; pasted text stays the textarea's. */
  #paste(event: ClipboardEvent): void {
    const files = event.clipboardData?.files;
    if (!files || files.length === 0) return;
    event.preventDefault();
    this.addFiles(files);
  }

  override focus(): void {
    this.renderRoot.querySelector('textarea')?.focus();
  }

  get #area(): HTMLTextAreaElement | null {
    return this.renderRoot.querySelector('textarea');
  }

  #options(): MentionCandidate[] {
    return this.mentionQuery === null ? [] : filterCandidates(this.members, this.mentionQuery.query);
  }

  /** Keys the open mention list takes before the textarea: up/down move, Enter/Tab pick, Escape closes. */
  #mentionKey(event: KeyboardEvent): boolean {
    const options = this.#options();
    if (options.length === 0 || event.isComposing) return false;
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') this.mentionActive = (this.mentionActive + (event.key === 'ArrowDown' ? 1 : options.length - 1)) % options.length;
    else if (event.key === 'Enter' || event.key === 'Tab') this.#pickMention(options[this.mentionActive] ?? options[0]!);
    else if (event.key === 'Escape') this.mentionQuery = null;
    else return false;
    event.preventDefault();
    return true;
  }

  /** Replaces the `@` word with `@Name ` and remembers whom it names. */
  #pickMention(member: MentionCandidate): void {
    const area = this.#area;
    const query = this.mentionQuery;
    if (!area || !query) return;
    area.setRangeText(`@${member.name} `, query.start, area.selectionStart, 'end');
    this.#mentions.set(member.id, member.name);
    this.mentionQuery = null;
    area.focus();
    this.#input();
  }

  #key(event: KeyboardEvent): void {
    if (this.#mentionKey(event)) return;
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      this.#send();
    }
  }

  /** Puts `emoji` in place of the selection (the caret, mostly) and goes back to writing after it. */
  #insert(emoji: string): void {
    this.picking = false;
    const area = this.#area;
    if (!area) return;
    area.setRangeText(emoji, area.selectionStart, area.selectionEnd, 'end');
    area.focus();
    this.#input();
  }

  #input(): void {
    const area = this.#area;
    if (!area) return;
    area.style.height = 'auto';
    area.style.height = `${area.scrollHeight}px`;
    this.length = area.value.trim().length;
    const query = area.selectionStart === area.selectionEnd ? mentionQueryAt(area.value, area.selectionStart) : null;
    if (query?.start !== this.mentionQuery?.start || query?.query !== this.mentionQuery?.query) this.mentionActive = 0;
    this.mentionQuery = query;
    if (area.value.trim() !== '') this.dispatchEvent(new CustomEvent('typing'));
  }

  #submit(event: SubmitEvent): void {
    event.preventDefault();
    this.#send();
  }

  #send(): void {
    const area = this.#area;
    if (!area) return;
    const content = area.value.trim();
    // Over the limit the draft stays, for the writer to shorten (the counter says by how much).
    if (content.length > MAX_CONTENT_LENGTH) return;
    area.value = '';
    area.style.height = 'auto';
    this.length = 0;
    this.mentionQuery = null;
    const members = new Set(this.members.map((m) => m.id));
    const mentioned = mentionedIn(content, this.#mentions).filter((id) => members.has(id));
    this.#mentions.clear();
    const files = this.#draftFiles?.take() ?? [];
    if (content !== '' || files.length > 0) this.dispatchEvent(new ComposerSendEvent(content, mentioned, files));
  }
}
customElements.define('parley-composer', ParleyComposer);
