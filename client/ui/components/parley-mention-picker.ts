import { LitElement, css, html } from 'lit';
import { base, tokens } from '../theme.ts';
import './parley-avatar.ts';

export interface MentionCandidate {
  readonly id: string;
  readonly name: string;
}

/** Most members the list shows at once (typing more letters narrows it). */
export const MENTION_OPTIONS = 8;

/** The members whose name starts with `query` (or has a word starting with it), case-insensitive; names first by that. */
export function filterCandidates(members: readonly MentionCandidate[], query: string): MentionCandidate[] {
  const q = query.toLocaleLowerCase();
  const starts = members.filter((m) => m.name.toLocaleLowerCase().startsWith(q));
  const words = members.filter((m) => !starts.includes(m) && m.name.toLocaleLowerCase().split(/\s+/).some((w) => w.startsWith(q)));
  return [...starts, ...words].slice(0, MENTION_OPTIONS);
}

/**
 * The `@` autocomplete list above the composer: a listbox the composer drives from its textarea
 * (focus stays there; the active option is aria-selected; aria-activedescendant cannot point into
 * this shadow root from the composer's). Emits `pick` (detail: the candidate) on a click.
 */
export class ParleyMentionPicker extends LitElement {
  static override properties = { options: { attribute: false }, active: { type: Number } };
  declare options: readonly MentionCandidate[];
  declare active: number;

  constructor() {
    super();
    this.options = [];
    this.active = 0;
  }

  static override styles = [
    tokens,
    base,
    css`
      :host {
        display: block;
      }
      ul {
        list-style: none;
        margin: 0 0 6px;
        padding: 4px;
        border: 1px solid #d6d6de;
        border-radius: var(--radius-lg);
        background: var(--bg);
        box-shadow: 0 6px 20px rgb(0 0 0 / 12%);
        max-width: 320px;
      }
      li {
        display: flex;
        align-items: center;
        gap: 8px;
        padding: 5px 8px;
        border-radius: 6px;
        cursor: pointer;
      }
      li[aria-selected='true'] {
        background: var(--bg-selected);
      }
    `,
  ];

  override render() {
    return html`<ul role="listbox" id="mention-list" aria-label="Mention a member" data-testid="mention-list">
      ${this.options.map(
        (m, i) => html`<li
          role="option"
          id=${`mention-${i}`}
          aria-selected=${String(i === this.active)}
          @mousedown=${(e: Event) => {
            // Keeps the focus in the textarea.
            e.preventDefault();
            this.dispatchEvent(new CustomEvent<MentionCandidate>('pick', { detail: m }));
          }}
        >
          <parley-avatar .name=${m.name} .userKey=${m.id} size="20"></parley-avatar><span>${m.name}</span>
        </li>`,
      )}
    </ul>`;
  }
}
customElements.define('parley-mention-picker', ParleyMentionPicker);
