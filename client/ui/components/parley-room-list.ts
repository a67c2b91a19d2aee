import { LitElement, css, html, nothing } from 'lit';
import { repeat } from 'lit/directives/repeat.js';
import type { RoomSummary } from '../../ChatClient.ts';
import type { User } from '../../../shared/models/user.ts';
import type { UserPresence } from '../../../shared/models/userPresence.ts';
import type { DirectPeer } from '../controllers/RoomListController.ts';
import { roomHref } from '../controllers/HashRouteController.ts';
import { shortTime } from '../format/formatTime.ts';
import { icons } from '../format/icons.ts';
import { previewLine, roomTitle } from '../format/roomTitle.ts';
import { base, tokens } from '../theme.ts';
import './parley-avatar.ts';

/** The sidebar: the user's rooms with previews and unread counts. Emits `new-room` and `sign-out`. */
export class ParleyRoomList extends LitElement {
  static override properties = {
    rooms: { attribute: false },
    selectedId: { attribute: false },
    me: { attribute: false },
    peers: { attribute: false },
    presence: { attribute: false },
  };
  declare rooms: readonly RoomSummary[];
  declare selectedId: string | null;
  declare me: User | null;
  declare peers: ReadonlyMap<string, DirectPeer>;
  declare presence: ReadonlyMap<string, UserPresence>;

  constructor() {
    super();
    this.rooms = [];
    this.selectedId = null;
    this.me = null;
    this.peers = new Map();
    this.presence = new Map();
  }

  static override styles = [
    tokens,
    base,
    css`
      :host {
        display: flex;
        flex-direction: column;
        height: 100%;
        min-height: 0;
        background: var(--bg-sidebar);
      }
      header {
        display: flex;
        align-items: center;
        gap: 10px;
        padding: 14px 12px 10px 16px;
      }
      header img {
        width: 28px;
        height: 28px;
      }
      header h1 {
        flex: 1;
        margin: 0;
        font-size: 17px;
        font-weight: 700;
        letter-spacing: -0.01em;
      }
      .section {
        display: flex;
        align-items: center;
        justify-content: space-between;
        padding: 8px 12px 4px 16px;
        font-size: 12px;
        font-weight: 600;
        text-transform: uppercase;
        letter-spacing: 0.06em;
        color: var(--text-faint);
      }
      nav {
        flex: 1;
        overflow-y: auto;
        padding: 2px 8px 12px;
      }
      ul {
        list-style: none;
        margin: 0;
        padding: 0;
      }
      a {
        display: flex;
        align-items: center;
        gap: 10px;
        padding: 8px 8px;
        border-radius: var(--radius);
        color: inherit;
        text-decoration: none;
      }
      a:hover {
        background: var(--bg-hover);
      }
      a[aria-current='page'] {
        background: var(--bg-selected);
      }
      .glyph {
        flex: none;
        display: grid;
        place-items: center;
        width: 36px;
        height: 36px;
        border-radius: 30%;
        background: #e9e9f0;
        color: var(--text-muted);
      }
      .body {
        flex: 1;
        min-width: 0;
      }
      .top {
        display: flex;
        align-items: baseline;
        gap: 8px;
      }
      .name {
        flex: 1;
        min-width: 0;
        overflow: hidden;
        text-overflow: ellipsis;
        white-space: nowrap;
        font-weight: 600;
        font-size: 14px;
      }
      .time {
        flex: none;
        font-size: 12px;
        color: var(--text-faint);
      }
      .bottom {
        display: flex;
        align-items: center;
        gap: 8px;
        margin-top: 2px;
      }
      .preview {
        flex: 1;
        min-width: 0;
        overflow: hidden;
        text-overflow: ellipsis;
        white-space: nowrap;
        font-size: 13px;
        color: var(--text-muted);
      }
      .unread .preview {
        color: var(--text);
        font-weight: 500;
      }
      .badge.muted {
        background: var(--text-faint);
      }
      .muted-glyph {
        flex: none;
        color: var(--text-faint);
        display: inline-grid;
      }
      .badge {
        flex: none;
        min-width: 20px;
        height: 20px;
        padding: 0 6px;
        border-radius: 10px;
        background: var(--accent);
        color: #fff;
        font-size: 12px;
        font-weight: 600;
        display: grid;
        place-items: center;
      }
      .empty {
        padding: 24px 16px;
        color: var(--text-muted);
        font-size: 14px;
        line-height: 1.5;
        text-align: center;
      }
      footer {
        display: flex;
        align-items: center;
        gap: 10px;
        padding: 10px 12px 10px 16px;
        border-top: 1px solid var(--border);
      }
      footer .me {
        flex: 1;
        min-width: 0;
        font-weight: 600;
        font-size: 14px;
        overflow: hidden;
        text-overflow: ellipsis;
        white-space: nowrap;
      }
    `,
  ];

  override render() {
    return html`<header>
        <img src="/icon.svg" alt="" />
        <h1>Parley</h1>
        <button class="icon-button" aria-label="New conversation" title="New conversation" @click=${() => this.#emit('new-room')}>${icons.plus()}</button>
      </header>
      <div class="section" id="rooms-heading">Conversations</div>
      <nav aria-labelledby="rooms-heading">
        ${this.rooms.length === 0
          ? html`<div class="empty">No conversations yet.<br />Start one with the + button.</div>`
          : html`<ul>
              ${repeat(
                this.rooms,
                (s) => s.room.id,
                (s) => this.#item(s),
              )}
            </ul>`}
      </nav>
      <slot name="notice"></slot>
      ${this.me
        ? html`<footer>
            <parley-avatar .name=${this.me.name} .userKey=${this.me.id} size="30"></parley-avatar>
            <span class="me">${this.me.name}</span>
            <button class="icon-button" aria-label="Sign out" title="Sign out (removes your conversations from this device)" @click=${() => this.#emit('sign-out')}>${icons.logout(17)}</button>
          </footer>`
        : nothing}`;
  }

  #item(summary: RoomSummary) {
    const { room, unreadCount, mentionCount, lastMessage, muted } = summary;
    const peer = this.peers.get(room.id) ?? null;
    const title = roomTitle(room, peer?.name ?? null);
    const direct = room.type === 'direct';
    const online = peer ? (this.presence.get(peer.userId)?.is_online ?? false) : false;
    const glyph = direct
      ? html`<parley-avatar .name=${title} .userKey=${peer?.userId ?? room.id} size="36" show-presence .online=${online}></parley-avatar>`
      : html`<span class="glyph">${room.type === 'channel' ? icons.megaphone(17) : icons.hash(17)}</span>`;
    const label = `${title}${direct ? (online ? ', online' : ', offline') : ''}${muted ? ', muted' : ''}${unreadCount > 0 ? `, ${unreadCount} unread` : ''}${mentionCount > 0 ? `, ${mentionCount} ${mentionCount === 1 ? 'mention' : 'mentions'}` : ''}`;
    return html`<li>
      <a href=${roomHref(room.id)} data-room-id=${room.id} class=${unreadCount > 0 ? 'unread' : ''} aria-current=${this.selectedId === room.id ? 'page' : 'false'} aria-label=${label}>
        ${glyph}
        <span class="body">
          <span class="top"><span class="name">${title}</span>${muted ? html`<span class="muted-glyph" title="Muted" data-testid="room-muted">${icons.bellOff(13)}</span>` : nothing}${lastMessage ? html`<span class="time">${shortTime(lastMessage.created_at)}</span>` : nothing}</span>
          <span class="bottom">
            <span class="preview" data-testid="room-preview">${previewLine(lastMessage, this.me?.id ?? '', direct)}</span>
            ${mentionCount > 0 ? html`<span class="badge mention-badge" data-testid="mention-count" title="Mentions of you">@${mentionCount > 99 ? '99+' : mentionCount}</span>` : nothing}
            ${unreadCount > 0 ? html`<span class="badge ${muted ? 'muted' : ''}" data-testid="unread-count">${unreadCount > 99 ? '99+' : unreadCount}</span>` : nothing}
          </span>
        </span>
      </a>
    </li>`;
  }

  #emit(name: string): void {
    this.dispatchEvent(new CustomEvent(name, { bubbles: true, composed: true }));
  }
}
customElements.define('parley-room-list', ParleyRoomList);
