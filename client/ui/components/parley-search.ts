import { LitElement, css, html, nothing } from 'lit';
import { clockTime } from '../format/formatTime.ts';
import { icons } from '../format/icons.ts';
import { base, tokens } from '../theme.ts';

/** One found message as the search panel shows it. */
export interface SearchHitView {
  readonly roomId: string;
  readonly messageId: string;
  readonly senderId: string | null;
  readonly createdAt: string;
  /** The snippet in parts; `match` parts are the words searched for. Rendered as text, never markup. */
  readonly segments: ReadonlyArray<{ readonly text: string; readonly match: boolean }>;
}

export interface SearchGroupView {
  readonly roomId: string;
  readonly roomName: string;
  readonly hits: readonly SearchHitView[];
}

export interface SearchAnswerView {
  readonly groups: readonly SearchGroupView[];
  /** Answered from this device alone (the server could not be asked). */
  readonly offline: boolean;
  readonly hasMore: boolean;
}

/** Runs a search; the panel passes a signal that aborts when the text changes again. */
export type SearchFn = (query: string, more: boolean, signal: AbortSignal) => Promise<SearchAnswerView>;

/** How long typing must pause before a search runs. */
const DEBOUNCE_MS = 200;

/**
 * The search box over the room list and, while it has text, the results in its place: grouped by
 * room, the matched words marked, newest rooms' groups in the order the search ranked them.
 * Choosing a result emits `open-result` ({roomId, messageId}); Escape or × clears the search.
 * The snippet is text split into parts by the SDK, so HTML in a message stays text.
 */
export class ParleySearch extends LitElement {
  static override properties = {
    search: { attribute: false },
    nameOf: { attribute: false },
    query: { state: true },
    answer: { state: true },
    busy: { state: true },
    error: { state: true },
  };
  declare search: SearchFn | null;
  declare nameOf: (userId: string) => string;
  declare query: string;
  declare answer: SearchAnswerView | null;
  declare busy: boolean;
  declare error: string | null;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #abort: AbortController | null = null;

  constructor() {
    super();
    this.search = null;
    this.nameOf = () => 'Someone';
    this.query = '';
    this.answer = null;
    this.busy = false;
    this.error = null;
  }

  static override styles = [
    tokens,
    base,
    css`
      :host {
        display: flex;
        flex-direction: column;
        min-height: 0;
      }
      .box {
        display: flex;
        align-items: center;
        gap: 6px;
        margin: 10px 12px 4px;
        padding: 0 6px 0 10px;
        border: 1px solid var(--border);
        border-radius: var(--radius);
        background: var(--bg);
        color: var(--text-faint);
      }
      .box:focus-within {
        border-color: var(--accent);
        box-shadow: var(--focus);
      }
      .box input {
        flex: 1;
        min-width: 0;
        border: 0;
        padding: 7px 0;
        font: inherit;
        background: transparent;
        color: var(--text);
      }
      .box input:focus,
      .box input:focus-visible {
        box-shadow: none;
        outline: none;
      }
      input::-webkit-search-cancel-button {
        display: none;
      }
      .results {
        flex: 1;
        overflow-y: auto;
        padding: 4px 8px 12px;
      }
      h3 {
        margin: 12px 6px 4px;
        font-size: 12px;
        text-transform: uppercase;
        letter-spacing: 0.04em;
        color: var(--text-muted);
      }
      .hit {
        display: block;
        width: 100%;
        text-align: left;
        padding: 6px 8px;
        border: 0;
        border-radius: var(--radius);
        background: transparent;
      }
      .hit:hover {
        background: var(--bg-hover);
      }
      .who {
        font-size: 12px;
        color: var(--text-muted);
      }
      .snippet {
        font-size: 13px;
        overflow-wrap: anywhere;
      }
      mark {
        background: #fff1a8;
        color: inherit;
        border-radius: 2px;
      }
      .note {
        margin: 8px 8px 0;
        font-size: 12px;
        color: var(--text-faint);
      }
      .more {
        margin: 8px 6px;
        padding: 4px 10px;
        border: 1px solid var(--border);
        border-radius: 6px;
        background: var(--bg);
        font-size: 12px;
      }
    `,
  ];

  /** Whether results show (the room list hides meanwhile). */
  get active(): boolean {
    return this.query.trim() !== '';
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#cancel();
  }

  override render() {
    return html`<div class="box" role="search">
        ${icons.search(15)}
        <input type="search" aria-label="Search messages" placeholder="Search messages" .value=${this.query} @input=${this.#input} @keydown=${this.#key} />
        ${this.active ? html`<button class="icon-button" aria-label="Clear search" @click=${() => this.clear()}>${icons.x(14)}</button>` : nothing}
      </div>
      ${this.active ? this.#results() : nothing}`;
  }

  clear(): void {
    this.#cancel();
    [this.query, this.answer, this.error, this.busy] = ['', null, null, false];
    this.#changed();
  }

  #results() {
    const a = this.answer;
    return html`<div class="results" data-testid="search-results" aria-busy=${String(this.busy)}>
      ${this.error ? html`<div class="note" role="alert">${this.error}</div>` : nothing}
      ${a?.offline ? html`<div class="note" data-testid="search-offline">Offline: showing what this device holds.</div>` : nothing}
      ${a && a.groups.length === 0 && !this.busy ? html`<div class="note" role="status">No messages found.</div>` : nothing}
      ${a?.groups.map(
        (g) => html`<section aria-label=${`Results in ${g.roomName}`} data-testid="search-group" data-room-id=${g.roomId}>
          <h3>${g.roomName}</h3>
          ${g.hits.map(
            (h) => html`<button class="hit" data-testid="search-hit" data-message-id=${h.messageId} @click=${() => this.#open(h)}>
              <div class="who">${h.senderId === null ? 'System' : this.nameOf(h.senderId)} · ${clockTime(h.createdAt)}</div>
              <div class="snippet">${h.segments.map((s) => (s.match ? html`<mark>${s.text}</mark>` : s.text))}</div>
            </button>`,
          )}
        </section>`,
      )}
      ${a?.hasMore ? html`<button class="more" @click=${() => void this.#run(true)}>More results</button>` : nothing}
    </div>`;
  }

  #input(event: Event): void {
    this.query = (event.target as HTMLInputElement).value;
    this.#changed();
    this.#cancel();
    if (!this.active) {
      [this.answer, this.error] = [null, null];
      return;
    }
    this.#timer = setTimeout(() => void this.#run(false), DEBOUNCE_MS);
  }

  #key(event: KeyboardEvent): void {
    if (event.key === 'Escape') this.clear();
  }

  async #run(more: boolean): Promise<void> {
    const search = this.search;
    if (!search || !this.active) return;
    this.#abort?.abort();
    const abort = new AbortController();
    this.#abort = abort;
    this.busy = true;
    try {
      const answer = await search(this.query.trim(), more, abort.signal);
      if (abort.signal.aborted) return;
      [this.answer, this.error] = [answer, null];
    } catch (error) {
      if (!abort.signal.aborted) this.error = `Search failed: ${error instanceof Error ? error.message : String(error)}`;
    } finally {
      if (!abort.signal.aborted) this.busy = false;
    }
  }

  #open(hit: SearchHitView): void {
    this.dispatchEvent(new CustomEvent('open-result', { detail: { roomId: hit.roomId, messageId: hit.messageId } }));
  }

  #cancel(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#abort?.abort();
  }

  #changed(): void {
    this.dispatchEvent(new CustomEvent('search-active', { detail: this.active }));
  }
}
customElements.define('parley-search', ParleySearch);
