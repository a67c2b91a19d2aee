import { LitElement, css, html, nothing, type PropertyValues } from 'lit';
import type { ChatClient, RoomSummary } from '../../ChatClient.ts';
import { RoomController } from '../controllers/RoomController.ts';
import type { DirectPeer } from '../controllers/RoomListController.ts';
import { lastSeen } from '../format/formatTime.ts';
import { icons } from '../format/icons.ts';
import { roomTitle } from '../format/roomTitle.ts';
import { typingLine } from '../format/typingLine.ts';
import { base, tokens } from '../theme.ts';
import './parley-avatar.ts';
import './parley-composer.ts';
import './parley-member-panel.ts';
import './parley-message-list.ts';
import './parley-mute-toggle.ts';
import './parley-pinned-button.ts';
import { ComposerSendEvent } from './ComposerSendEvent.ts';
import type { MemberAction } from './parley-member-panel.ts';
import type { MessageAction } from './parley-message.ts';
import type { ParleyMessageList } from './parley-message-list.ts';

/** An open room: header, messages, typing line, composer and the member list. Emits `back`, `left`. */
export class ParleyRoomView extends LitElement {
  static override properties = {
    client: { attribute: false },
    roomId: { attribute: false },
    summary: { attribute: false },
    peer: { attribute: false },
    showMembers: { state: true },
  };
  declare client: ChatClient | null;
  declare roomId: string | null;
  declare summary: RoomSummary | null;
  declare peer: DirectPeer | null;
  declare showMembers: boolean;
  readonly #room = new RoomController(this);

  constructor() {
    super();
    this.client = null;
    this.roomId = null;
    this.summary = null;
    this.peer = null;
    this.showMembers = false;
  }

  static override styles = [
    tokens,
    base,
    css`
      :host {
        display: grid;
        grid-template-columns: 1fr auto;
        height: 100%;
        min-height: 0;
        background: var(--bg);
      }
      .main {
        display: grid;
        grid-template-rows: auto auto 1fr auto auto;
        min-width: 0;
        min-height: 0;
      }
      header {
        display: flex;
        align-items: center;
        gap: 10px;
        min-height: 56px;
        padding: 8px 12px 8px 20px;
        border-bottom: 1px solid var(--border);
      }
      .glyph {
        display: grid;
        place-items: center;
        width: 32px;
        height: 32px;
        border-radius: 30%;
        background: var(--bg-subtle);
        border: 1px solid var(--border);
        color: var(--text-muted);
      }
      .back {
        display: none;
        margin-left: -10px;
      }
      .title {
        flex: 1;
        min-width: 0;
      }
      h2 {
        margin: 0;
        font-size: 16px;
        font-weight: 700;
        overflow: hidden;
        text-overflow: ellipsis;
        white-space: nowrap;
      }
      .subtitle {
        font-size: 12px;
        color: var(--text-muted);
        display: flex;
        align-items: center;
        gap: 6px;
      }
      .online-dot {
        width: 8px;
        height: 8px;
        border-radius: 50%;
        background: var(--online);
      }
      .members-toggle {
        display: inline-flex;
        align-items: center;
        gap: 6px;
        width: auto;
        padding: 0 10px;
        font-size: 13px;
        font-weight: 600;
      }
      .members-toggle[aria-expanded='true'] {
        background: var(--bg-selected);
        color: var(--accent);
      }
      .error {
        display: flex;
        align-items: center;
        gap: 8px;
        margin: 8px 16px 0;
        padding: 8px 8px 8px 12px;
        border-radius: var(--radius);
        background: var(--danger-soft);
        color: var(--danger);
        font-size: 13px;
      }
      .error span {
        flex: 1;
      }
      .notice {
        margin: 0 16px 16px;
        padding: 12px 14px;
        border-radius: var(--radius);
        background: var(--bg-selected);
        color: var(--text-muted);
        font-size: 13px;
      }
      parley-message-list {
        min-height: 0;
      }
      .typing {
        height: 22px;
        padding: 0 20px;
        font-size: 12px;
        color: var(--text-muted);
        font-style: italic;
      }
      .empty {
        display: grid;
        place-items: center;
        height: 100%;
        color: var(--text-muted);
        text-align: center;
        padding: 24px;
      }
      .empty h2 {
        color: var(--text);
        margin-bottom: 6px;
        font-size: 18px;
        white-space: normal;
      }
      parley-member-panel {
        width: 320px;
      }
      @media (max-width: 720px) {
        .back {
          display: inline-grid;
        }
        header {
          padding-left: 12px;
        }
        :host {
          grid-template-columns: 1fr;
        }
        parley-member-panel {
          position: fixed;
          inset: 0;
          width: auto;
          z-index: 20;
        }
      }
    `,
  ];

  /** The room as last listed: it stays titled after it left the list (removed). */
  #lastSummary: RoomSummary | null = null;

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('client') || changed.has('roomId')) {
      this.#lastSummary = null;
      void this.#room.show(this.client, this.roomId);
    }
    if (this.summary) this.#lastSummary = this.summary;
  }

  protected override updated(changed: PropertyValues<this>): void {
    // Opening a room is for writing in it, as in every chat app; not on touch screens, where
    // focusing would pop up the keyboard over the messages.
    if (changed.has('roomId') && this.roomId && matchMedia('(hover: hover)').matches) {
      this.renderRoot.querySelector<HTMLElement>('parley-composer')?.focus();
    }
  }

  override render() {
    if (!this.roomId) {
      return html`<div class="empty"><div><h2>Pick a conversation</h2><p>Or start a new one with the + button.</p></div></div>`;
    }
    const c = this.#room;
    const room = (this.summary ?? this.#lastSummary)?.room ?? null;
    const readOnly = c.lost ?? (room?.is_active === false ? 'This room was deactivated. What this device holds stays readable; nothing more can be sent here.' : null);
    const direct = room?.type === 'direct';
    const title = room ? roomTitle(room, this.peer?.name ?? null) : 'Conversation';
    const me = this.client?.user.id ?? '';
    const names = new Map(c.members.map((m) => [m.user_id, m.user?.name ?? 'Unknown']));
    const nameOf = (id: string): string => names.get(id) ?? (id === me ? (this.client?.user.name ?? 'You') : 'Someone');
    const myRole = c.members.find((m) => m.user_id === me)?.role ?? 'member';
    return html`<section class="main" aria-label=${title}>
        <header>
          <button class="icon-button back" aria-label="Back to conversations" @click=${() => this.dispatchEvent(new CustomEvent('back'))}>${icons.back(20)}</button>
          ${direct
            ? html`<parley-avatar .name=${title} .userKey=${this.peer?.userId ?? ''} size="32"></parley-avatar>`
            : html`<span class="glyph" aria-hidden="true">${room?.type === 'channel' ? icons.megaphone(16) : icons.hash(16)}</span>`}
          <div class="title">
            <h2>${title}</h2>
            <div class="subtitle">${this.#subtitle(direct)}</div>
          </div>
          <parley-pinned-button .messages=${c.pinned} .nameOf=${nameOf} @jump=${(e: CustomEvent<string>) => void c.jumpTo(e.detail)}></parley-pinned-button>
          ${this.summary ? html`<parley-mute-toggle .roomId=${this.roomId} ?muted=${this.summary.muted}></parley-mute-toggle>` : nothing}
          <button class="icon-button members-toggle" aria-expanded=${String(this.showMembers)} aria-label="Members" @click=${() => (this.showMembers = !this.showMembers)}>
            ${icons.users(17)}<span aria-hidden="true">${c.members.length || room?.member_count || ''}</span>
          </button>
        </header>
        ${c.error
          ? html`<div class="error" role="alert"><span>${c.error}</span><button class="icon-button" aria-label="Dismiss" @click=${() => c.clearError()}>${icons.x(15)}</button></div>`
          : html`<div></div>`}
        <parley-message-list
          .roomId=${c.loadedRoomId}
          .messages=${c.messages}
          .hasOlder=${c.hasOlder}
          .hasNewer=${c.hasNewer}
          ?expectsMessages=${this.summary?.lastMessage != null}
          .myId=${me}
          .isManager=${myRole !== 'member'}
          .readPositions=${c.readPositions}
          .nameOf=${nameOf}
          .unreadId=${c.unread.firstId}
          .unreadCount=${c.unread.count}
          .reveal=${c.reveal}
          .opening=${!c.unread.decided && c.error === null}
          @jump-unread=${() => void c.jumpToFirstUnread()}
          @load-older=${() => c.loadOlder()}
          @load-newer=${() => c.loadNewer()}
          @jump-latest=${() => c.jumpToLatest()}
          @at-bottom=${(e: CustomEvent<boolean>) => c.setAtBottom(e.detail)}
          @painted=${() => c.painted()}
          @message-action=${(e: CustomEvent<MessageAction>) => void this.#onMessage(e.detail)}
        ></parley-message-list>
        <div class="typing" role="status" aria-live="polite" data-testid="typing-line">${typingLine(c.typing.map((u) => u.name))}</div>
        ${readOnly
          ? html`<div class="notice" role="status" data-testid="room-notice">${readOnly}</div>`
          : html`<parley-composer
              .placeholder=${`Message ${direct ? title : `#${title}`}`}
              .members=${c.members.filter((m) => m.user_id !== me).map((m) => ({ id: m.user_id, name: m.user?.name ?? 'Unknown' }))}
              @send=${(e: CustomEvent<string>) => void this.#send(e.detail, e instanceof ComposerSendEvent ? e.mentionedUsers : [])}
              @typing=${() => c.typingNow()}
            ></parley-composer>`}
      </section>
      ${this.showMembers
        ? html`<parley-member-panel
            .members=${c.members}
            .presence=${c.presence}
            .myId=${me}
            .myRole=${myRole}
            .isDirect=${direct}
            .search=${(prefix: string) => c.searchUsers(prefix)}
            @member-action=${(e: CustomEvent<MemberAction>) => void this.#onMember(e.detail)}
          ></parley-member-panel>`
        : nothing}`;
  }

  #subtitle(direct: boolean) {
    const c = this.#room;
    if (direct && this.peer) {
      const p = c.presence.get(this.peer.userId);
      if (p?.is_online) return html`<span class="online-dot"></span>online${p.status ? ` · ${p.status}` : ''}`;
      return html`${lastSeen(p?.last_seen_at ?? null)}${p?.status ? ` · ${p.status}` : ''}`;
    }
    const online = c.members.filter((m) => c.presence.get(m.user_id)?.is_online).length;
    const count = c.members.length || this.summary?.room.member_count || 0;
    return html`${count} ${count === 1 ? 'member' : 'members'}${online > 0 ? html` · <span class="online-dot"></span>${online} online` : nothing}`;
  }

  async #send(content: string, mentionedUsers: readonly string[]): Promise<void> {
    this.#room.stoppedTyping();
    this.renderRoot.querySelector<ParleyMessageList>('parley-message-list')?.stickToBottom();
    await this.#room.send(content, mentionedUsers);
  }

  async #onMessage(action: MessageAction): Promise<void> {
    const c = this.#room;
    switch (action.action) {
      case 'edit':
        return c.edit(action.id, action.content);
      case 'delete':
        return c.delete(action.id);
      case 'react':
        return c.toggleReaction(action.id, action.reaction);
      case 'retry':
        return c.retry(action.id);
      case 'discard':
        return c.discardRejected();
      case 'pin':
      case 'unpin':
        return c.pin(action.id, action.action === 'pin');
    }
  }

  async #onMember(action: MemberAction): Promise<void> {
    const c = this.#room;
    switch (action.action) {
      case 'add':
        return c.addMember(action.userId);
      case 'role':
        return c.setRole(action.userId, action.role);
      case 'remove':
        return c.removeMember(action.userId);
      case 'close':
        this.showMembers = false;
        return;
      case 'leave':
        if (await c.leave()) this.dispatchEvent(new CustomEvent('left'));
        return;
    }
  }
}
customElements.define('parley-room-view', ParleyRoomView);
