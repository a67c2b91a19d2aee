import { LitElement, css, html, nothing } from 'lit';
import { repeat } from 'lit/directives/repeat.js';
import type { ChatMember, ChatMemberRole } from '../../../shared/models/chatMember.ts';
import type { User } from '../../../shared/models/user.ts';
import type { UserPresence } from '../../../shared/models/userPresence.ts';
import { lastSeen } from '../format/formatTime.ts';
import { icons } from '../format/icons.ts';
import { base, sidePanel, tokens } from '../theme.ts';
import './parley-avatar.ts';

/** Member actions the panel asks for; the room view carries them out. */
export type MemberAction =
  | { readonly action: 'add'; readonly userId: string }
  | { readonly action: 'role'; readonly userId: string; readonly role: ChatMemberRole }
  | { readonly action: 'remove'; readonly userId: string }
  | { readonly action: 'leave' }
  | { readonly action: 'close' };

const ROLE_ORDER: Record<ChatMemberRole, number> = { owner: 0, admin: 1, member: 2 };

/**
 * The member list: online state, last seen and status; owners and admins add, remove and change
 * roles; anyone leaves. Emits `member-action` (MemberAction); user search goes through `search`.
 */
export class ParleyMemberPanel extends LitElement {
  static override properties = {
    members: { attribute: false },
    presence: { attribute: false },
    myId: { attribute: false },
    myRole: { attribute: false },
    isDirect: { type: Boolean },
    search: { attribute: false },
    results: { state: true },
  };
  declare members: readonly ChatMember[];
  declare presence: ReadonlyMap<string, UserPresence>;
  declare myId: string;
  declare myRole: ChatMemberRole;
  declare isDirect: boolean;
  declare search: (prefix: string) => Promise<User[]>;
  declare results: readonly User[];
  #query = 0;

  constructor() {
    super();
    this.members = [];
    this.presence = new Map();
    this.myId = '';
    this.myRole = 'member';
    this.isDirect = false;
    this.search = async () => [];
    this.results = [];
  }

  static override styles = [
    tokens,
    base,
    sidePanel,
    css`
      .body {
        padding: 8px 8px 16px;
      }
      ul {
        list-style: none;
        margin: 0;
        padding: 0;
      }
      li {
        display: flex;
        align-items: center;
        gap: 10px;
        padding: 7px 8px;
        border-radius: var(--radius);
      }
      li:hover {
        background: var(--bg-subtle);
      }
      .who {
        flex: 1;
        min-width: 0;
      }
      .name {
        font-weight: 600;
        font-size: 14px;
        overflow: hidden;
        text-overflow: ellipsis;
        white-space: nowrap;
      }
      .sub {
        font-size: 12px;
        color: var(--text-muted);
        overflow: hidden;
        text-overflow: ellipsis;
        white-space: nowrap;
      }
      .role {
        font-size: 11px;
        font-weight: 600;
        text-transform: uppercase;
        letter-spacing: 0.04em;
        color: var(--text-faint);
      }
      select {
        padding: 3px 4px;
        font-size: 12px;
        border-radius: 6px;
      }
      li .icon-button {
        width: 26px;
        height: 26px;
      }
      .add {
        padding: 8px;
      }
      .add input {
        width: 100%;
      }
      .add label {
        display: block;
        font-size: 12px;
        font-weight: 600;
        color: var(--text-muted);
        margin-bottom: 6px;
      }
      .results li {
        cursor: pointer;
      }
      .leave {
        margin: 12px 8px 0;
        width: calc(100% - 16px);
        color: var(--danger);
      }
    `,
  ];

  override render() {
    const manager = this.myRole === 'owner' || this.myRole === 'admin';
    const members = [...this.members].sort((a, b) => ROLE_ORDER[a.role] - ROLE_ORDER[b.role] || (a.user?.name ?? '').localeCompare(b.user?.name ?? ''));
    return html`<header>
        <h2 id="members-title">Members · ${this.members.length}</h2>
        <button class="icon-button" aria-label="Close member list" @click=${() => this.#emit({ action: 'close' })}>${icons.x(17)}</button>
      </header>
      <div class="body">
        ${manager && !this.isDirect
          ? html`<div class="add">
              <label for="add">Add people</label>
              <input id="add" type="search" placeholder="Search by name" autocomplete="off" @input=${this.#find} />
              ${this.results.length > 0
                ? html`<ul class="results" aria-label="People found">
                    ${this.results.map(
                      (u) => html`<li>
                        <parley-avatar .name=${u.name} .userKey=${u.id} size="28"></parley-avatar>
                        <span class="who name">${u.name}</span>
                        <button class="secondary" aria-label=${`Add ${u.name}`} @click=${() => this.#add(u)}>Add</button>
                      </li>`,
                    )}
                  </ul>`
                : nothing}
            </div>`
          : nothing}
        <ul aria-labelledby="members-title">
          ${repeat(
            members,
            (m) => m.user_id,
            (m) => this.#member(m, manager),
          )}
        </ul>
        <button class="secondary leave" @click=${() => this.#emit({ action: 'leave' })}>Leave conversation</button>
      </div>`;
  }

  #member(m: ChatMember, manager: boolean) {
    const name = m.user?.name ?? 'Unknown';
    const p = this.presence.get(m.user_id);
    const me = m.user_id === this.myId;
    const online = me || (p?.is_online ?? false);
    const status = p?.status ? ` · ${p.status}` : '';
    const canChange = manager && !me && !(m.role === 'owner' && this.myRole !== 'owner');
    return html`<li data-user-id=${m.user_id}>
      <parley-avatar .name=${name} .userKey=${m.user_id} size="32" show-presence .online=${online}></parley-avatar>
      <span class="who">
        <div class="name">${name}${me ? ' (you)' : ''}</div>
        <div class="sub" data-testid="member-presence">${online ? 'online' : lastSeen(p?.last_seen_at ?? null)}${status}</div>
      </span>
      ${canChange && !this.isDirect
        ? html`<select aria-label=${`Role of ${name}`} @change=${(e: Event) => this.#emit({ action: 'role', userId: m.user_id, role: (e.target as HTMLSelectElement).value as ChatMemberRole })}>
              ${(['member', 'admin', 'owner'] as const).map((r) => html`<option value=${r} ?selected=${m.role === r}>${r}</option>`)}
            </select>
            <button class="icon-button" aria-label=${`Remove ${name}`} title="Remove" @click=${() => this.#emit({ action: 'remove', userId: m.user_id })}>${icons.x(15)}</button>`
        : html`<span class="role">${m.role === 'member' ? '' : m.role}</span>`}
    </li>`;
  }

  async #find(event: Event): Promise<void> {
    const prefix = (event.target as HTMLInputElement).value.trim();
    const query = ++this.#query;
    if (prefix === '') {
      this.results = [];
      return;
    }
    const found = await this.search(prefix).catch(() => []);
    if (query !== this.#query) return;
    const present = new Set(this.members.map((m) => m.user_id));
    this.results = found.filter((u) => !present.has(u.id));
  }

  #add(user: User): void {
    this.results = [];
    const input = this.renderRoot.querySelector<HTMLInputElement>('#add');
    if (input) input.value = '';
    this.#emit({ action: 'add', userId: user.id });
  }

  #emit(detail: MemberAction): void {
    this.dispatchEvent(new CustomEvent<MemberAction>('member-action', { detail }));
  }
}
customElements.define('parley-member-panel', ParleyMemberPanel);
