import { LitElement, css, html, nothing } from 'lit';
import type { ChatClient } from '../../ChatClient.ts';
import type { User } from '../../../shared/models/user.ts';
import { icons } from '../format/icons.ts';
import { base, tokens } from '../theme.ts';
import './parley-avatar.ts';

/** Starts a group or a direct chat. Emits `created` (detail: the room id) or `close`. */
export class ParleyNewRoomDialog extends LitElement {
  static override properties = {
    client: { attribute: false },
    kind: { state: true },
    results: { state: true },
    picked: { state: true },
    error: { state: true },
    busy: { state: true },
  };
  declare client: ChatClient | null;
  declare kind: 'group' | 'direct';
  declare results: readonly User[];
  declare picked: readonly User[];
  declare error: string | null;
  declare busy: boolean;
  #query = 0;

  constructor() {
    super();
    this.client = null;
    this.kind = 'group';
    this.results = [];
    this.picked = [];
    this.error = null;
    this.busy = false;
  }

  static override styles = [
    tokens,
    base,
    css`
      dialog {
        width: min(460px, calc(100vw - 24px));
        border: 0;
        border-radius: 16px;
        padding: 0;
        box-shadow: 0 20px 60px rgb(16 16 24 / 25%);
        color: var(--text);
      }
      dialog::backdrop {
        background: rgb(16 16 24 / 40%);
      }
      form {
        padding: 20px 22px 22px;
      }
      .head {
        display: flex;
        align-items: center;
        justify-content: space-between;
        margin-bottom: 14px;
      }
      h2 {
        margin: 0;
        font-size: 18px;
      }
      .tabs {
        display: grid;
        grid-template-columns: 1fr 1fr;
        gap: 4px;
        padding: 4px;
        background: var(--bg-subtle);
        border-radius: var(--radius);
        margin-bottom: 16px;
      }
      .tabs button {
        border: 0;
        border-radius: 6px;
        padding: 7px;
        background: transparent;
        font-weight: 600;
        color: var(--text-muted);
      }
      .tabs button[aria-pressed='true'] {
        background: var(--bg);
        color: var(--text);
        box-shadow: 0 1px 2px rgb(16 16 24 / 10%);
      }
      label {
        display: block;
        font-size: 13px;
        font-weight: 600;
        margin: 0 0 6px;
      }
      input {
        width: 100%;
        margin-bottom: 14px;
      }
      ul {
        list-style: none;
        margin: -6px 0 12px;
        padding: 4px;
        border: 1px solid var(--border);
        border-radius: var(--radius);
        max-height: 200px;
        overflow-y: auto;
      }
      li button {
        display: flex;
        align-items: center;
        gap: 10px;
        width: 100%;
        border: 0;
        background: transparent;
        padding: 6px;
        border-radius: 6px;
        text-align: left;
      }
      li button:hover {
        background: var(--bg-hover);
      }
      .chips {
        display: flex;
        flex-wrap: wrap;
        gap: 6px;
        margin-bottom: 14px;
      }
      .chip {
        display: inline-flex;
        align-items: center;
        gap: 4px;
        padding: 3px 4px 3px 10px;
        border-radius: 14px;
        background: var(--accent-soft);
        color: var(--accent);
        font-size: 13px;
        font-weight: 600;
      }
      .chip button {
        border: 0;
        background: transparent;
        color: inherit;
        display: grid;
        place-items: center;
        padding: 2px;
        border-radius: 50%;
      }
      .actions {
        display: flex;
        justify-content: flex-end;
        gap: 8px;
        margin-top: 6px;
      }
      .error {
        color: var(--danger);
        font-size: 13px;
        margin-bottom: 10px;
      }
    `,
  ];

  override firstUpdated(): void {
    this.renderRoot.querySelector('dialog')?.showModal();
  }

  override render() {
    const direct = this.kind === 'direct';
    return html`<dialog aria-labelledby="new-room-title" @close=${() => this.dispatchEvent(new CustomEvent('close'))}>
      <form @submit=${this.#create}>
        <div class="head">
          <h2 id="new-room-title">New conversation</h2>
          <button type="button" class="icon-button" aria-label="Close" @click=${() => this.#close()}>${icons.x()}</button>
        </div>
        <div class="tabs" role="group" aria-label="Kind of conversation">
          <button type="button" aria-pressed=${String(!direct)} @click=${() => this.#setKind('group')}>Group</button>
          <button type="button" aria-pressed=${String(direct)} @click=${() => this.#setKind('direct')}>Direct message</button>
        </div>
        ${direct ? nothing : html`<label for="room-name">Group name</label><input id="room-name" name="name" type="text" required maxlength="120" placeholder="e.g. design-team" />`}
        <label for="people">${direct ? 'Person' : 'Add people'}</label>
        <input id="people" type="search" autocomplete="off" placeholder="Search by name" @input=${this.#find} ?disabled=${direct && this.picked.length === 1} />
        ${this.results.length > 0
          ? html`<ul aria-label="People found">
              ${this.results.map(
                (u) => html`<li><button type="button" @click=${() => this.#pick(u)}><parley-avatar .name=${u.name} .userKey=${u.id} size="26"></parley-avatar>${u.name}</button></li>`,
              )}
            </ul>`
          : nothing}
        ${this.picked.length > 0
          ? html`<div class="chips">
              ${this.picked.map((u) => html`<span class="chip">${u.name}<button type="button" aria-label=${`Remove ${u.name}`} @click=${() => (this.picked = this.picked.filter((p) => p.id !== u.id))}>${icons.x(13)}</button></span>`)}
            </div>`
          : nothing}
        ${this.error ? html`<div class="error" role="alert">${this.error}</div>` : nothing}
        <div class="actions">
          <button type="button" class="secondary" @click=${() => this.#close()}>Cancel</button>
          <button type="submit" class="primary" ?disabled=${this.busy || (direct && this.picked.length !== 1)}>${direct ? 'Start chat' : 'Create group'}</button>
        </div>
      </form>
    </dialog>`;
  }

  #setKind(kind: 'group' | 'direct'): void {
    this.kind = kind;
    if (kind === 'direct') this.picked = this.picked.slice(0, 1);
  }

  async #find(event: Event): Promise<void> {
    const prefix = (event.target as HTMLInputElement).value.trim();
    const query = ++this.#query;
    if (!prefix || !this.client) {
      this.results = [];
      return;
    }
    const found = await this.client.searchUsers(prefix).catch(() => []);
    if (query !== this.#query) return;
    const me = this.client.user.id;
    this.results = found.filter((u) => u.id !== me && !this.picked.some((p) => p.id === u.id));
  }

  #pick(user: User): void {
    this.picked = this.kind === 'direct' ? [user] : [...this.picked, user];
    this.results = [];
    const input = this.renderRoot.querySelector<HTMLInputElement>('#people');
    if (input) input.value = '';
  }

  async #create(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const client = this.client;
    if (!client) return;
    const name = this.kind === 'group' ? String(new FormData(event.target as HTMLFormElement).get('name') ?? '').trim() : null;
    this.busy = true;
    this.error = null;
    try {
      const room = await client.createRoom({ type: this.kind, name, members: this.picked.map((u) => ({ user_id: u.id, role: 'member' as const })) });
      this.dispatchEvent(new CustomEvent('created', { detail: room.id }));
      this.#close();
    } catch (error) {
      this.error = error instanceof Error ? error.message : String(error);
    } finally {
      this.busy = false;
    }
  }

  #close(): void {
    this.renderRoot.querySelector('dialog')?.close();
  }
}
customElements.define('parley-new-room-dialog', ParleyNewRoomDialog);
