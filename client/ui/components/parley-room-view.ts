import { LitElement, css, html, nothing, type PropertyValues } from 'lit';
import type { ChatClient, RoomSummary } from '../../ChatClient.ts';
import { RoomController } from '../controllers/RoomController.ts';
import { UploadsController } from '../controllers/UploadsController.ts';
import type { DirectPeer } from '../controllers/RoomListController.ts';
import { lastSeen } from '../format/formatTime.ts';
import { icons } from '../format/icons.ts';
import { roomTitle } from '../format/roomTitle.ts';
import { typingLine } from '../format/typingLine.ts';
import { base, tokens } from '../theme.ts';
import { roomViewStyles } from './roomViewStyles.ts';
import './parley-avatar.ts';
import './parley-composer.ts';
import './parley-member-panel.ts';
import './parley-message-list.ts';
import './parley-mute-toggle.ts';
import './parley-pinned-button.ts';
import './parley-thread-panel.ts';
import './parley-upload-list.ts';
import type { UploadAction } from './parley-upload-list.ts';
import type { ParleyComposer } from './parley-composer.ts';
import type { ClientMessage } from '../../room/ChatRoom.ts';
import type { ThreadSend } from './parley-thread-panel.ts';
import { ComposerSendEvent } from './ComposerSendEvent.ts';
import type { MemberAction } from './parley-member-panel.ts';
import type { MessageAction } from './parley-message.ts';
import type { ParleyMessageList } from './parley-message-list.ts';

/** An open room: header, messages, typing line, composer and the member list. Emits `back`, `left`. */
export class ParleyRoomView extends LitElement {
  static override properties = {
    client: { attribute: false },
    roomId: { attribute: false },
    focusMessage: { attribute: false },
    summary: { attribute: false },
    peer: { attribute: false },
    showMembers: { state: true },
    thread: { state: true },
    quoting: { state: true },
    dropping: { state: true },
  };
  /** Files are being dragged over the room. */
  declare dropping: boolean;
  declare client: ChatClient | null;
  declare roomId: string | null;
  /** A message to show with those around it (the route's `/messages/<id>`), or null. */
  declare focusMessage: string | null;
  declare summary: RoomSummary | null;
  declare peer: DirectPeer | null;
  declare showMembers: boolean;
  /** The root whose thread shows beside the room (instead of the members), or null. */
  declare thread: string | null;
  /** The message the next send quotes ("Quote" on a message), or null. */
  declare quoting: ClientMessage | null;
  readonly #room = new RoomController(this);
  readonly #uploads = new UploadsController(this);

  constructor() {
    super();
    this.client = null;
    this.roomId = null;
    this.focusMessage = null;
    this.summary = null;
    this.peer = null;
    this.showMembers = false;
    this.thread = null;
    this.quoting = null;
    this.dropping = false;
  }

  static override styles = [tokens, base, roomViewStyles];

  /** The room as last listed: it stays titled after it left the list (removed). */
  #lastSummary: RoomSummary | null = null;

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('client') || changed.has('roomId')) {
      [this.#lastSummary, this.thread, this.quoting] = [null, null, null];
      void this.#room.show(this.client, this.roomId);
      this.#uploads.show(this.client, this.roomId);
    }
    if ((changed.has('focusMessage') || changed.has('roomId')) && this.focusMessage !== null) this.#room.focus(this.focusMessage);
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
    // Whom the room's and the thread's composers offer to mention: the other active members.
    const mentionable = c.members.filter((m) => m.user_id !== me).map((m) => ({ id: m.user_id, name: m.user?.name ?? 'Unknown' }));
    const u = this.#uploads;
    return html`<section
        class="main ${this.dropping && !readOnly ? 'dropping' : ''}"
        aria-label=${title}
        @dragover=${(e: DragEvent) => this.#dragOver(e, readOnly === null)}
        @dragleave=${(e: DragEvent) => {
          if (e.target === e.currentTarget) this.dropping = false;
        }}
        @drop=${(e: DragEvent) => this.#drop(e, readOnly === null)}
      >
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
          <button class="icon-button members-toggle" aria-expanded=${String(this.showMembers)} aria-label="Members" @click=${() => ([this.showMembers, this.thread] = [!this.showMembers, null])}>
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
          .threadUnread=${c.threadUnread}
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
        <parley-upload-list .uploads=${u.pending} ?online=${c.connection === 'online'} @upload-action=${(e: CustomEvent<UploadAction>) => void this.#onUpload(e.detail)}></parley-upload-list>
        <div class="typing" role="status" aria-live="polite" data-testid="typing-line">${typingLine(c.typing.map((u) => u.name))}</div>
        ${readOnly
          ? html`<div class="notice" role="status" data-testid="room-notice">${readOnly}</div>`
          : html`<parley-composer
              .placeholder=${`Message ${direct ? title : `#${title}`}`}
              .members=${mentionable}
              @send=${(e: CustomEvent<string>) => void this.#send(e.detail, e instanceof ComposerSendEvent ? e.mentionedUsers : [], e instanceof ComposerSendEvent ? e.files : [])}
              @typing=${() => c.typingNow()}
              >${this.#quoteBar(nameOf)}</parley-composer
            >`}
      </section>
      ${this.thread
        ? html`<parley-thread-panel
            .room=${c.room}
            .rootId=${this.thread}
            .myId=${me}
            .isManager=${myRole !== 'member'}
            .nameOf=${nameOf}
            .members=${mentionable}
            ?read-only=${readOnly !== null}
            @close=${() => (this.thread = null)}
            @thread-send=${(e: CustomEvent<ThreadSend>) => void this.#sendReply(e.detail)}
            @message-action=${(e: CustomEvent<MessageAction>) => void this.#onMessage(e.detail)}
          ></parley-thread-panel>`
        : nothing}
      ${this.showMembers && !this.thread
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

  #quoteBar(nameOf: (id: string) => string) {
    const q = this.quoting;
    if (!q) return nothing;
    const sender = q.sender_name ?? (q.sender_id ? nameOf(q.sender_id) : 'Someone');
    return html`<div slot="context" class="quoting" data-testid="quoting">
      <b>${sender}</b><span>${q.content.split('\n')[0]}</span>
      <button class="icon-button" aria-label="Cancel quote" @click=${() => (this.quoting = null)}>${icons.x(14)}</button>
    </div>`;
  }

  async #send(content: string, mentionedUsers: readonly string[], files: readonly File[]): Promise<void> {
    this.#room.stoppedTyping();
    this.renderRoot.querySelector<ParleyMessageList>('parley-message-list')?.stickToBottom();
    const quoted = this.quoting;
    this.quoting = null;
    const relations = quoted ? { quotedMessageId: quoted.id } : {};
    if (files.length > 0) {
      this.#room.jumpToLatest();
      return this.#uploads.send(files, { content, ...relations, ...(mentionedUsers.length > 0 ? { mentionedUsers } : {}) });
    }
    await this.#room.send(content, mentionedUsers, relations);
  }

  async #sendReply({ rootId, content, mentionedUsers, files, showInChannel }: ThreadSend): Promise<void> {
    const relations = { parentId: rootId, showInChannel };
    if (files.length > 0) return this.#uploads.send(files, { content, ...relations, ...(mentionedUsers.length > 0 ? { mentionedUsers } : {}) });
    await this.#room.send(content, mentionedUsers, relations);
  }

  #dragOver(event: DragEvent, writable: boolean): void {
    if (!writable || !event.dataTransfer?.types.includes('Files')) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = 'copy';
    this.dropping = true;
  }

  /** Files dropped anywhere on the room attach to the composer's draft. */
  #drop(event: DragEvent, writable: boolean): void {
    this.dropping = false;
    const files = event.dataTransfer?.files;
    if (!writable || !files || files.length === 0) return;
    event.preventDefault();
    this.renderRoot.querySelector<ParleyComposer>('parley-composer')?.addFiles(files);
  }

  async #onUpload({ action, messageId }: UploadAction): Promise<void> {
    await (action === 'retry' ? this.#uploads.retry(messageId) : this.#uploads.discard(messageId));
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
      case 'thread':
        [this.thread, this.showMembers] = [action.id, false];
        await this.updateComplete;
        return this.renderRoot.querySelector<HTMLElement>('parley-thread-panel')?.focus();
      case 'quote':
        this.quoting = c.messages.find((m) => m.id === action.id) ?? c.room?.getMessage(action.id) ?? null;
        return this.renderRoot.querySelector<HTMLElement>('parley-composer')?.focus();
      case 'jump':
        return c.jumpTo(action.id);
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
