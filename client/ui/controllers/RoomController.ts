/* Over 350 lines for a reason: the one controller of an open room (window, unread anchor, writes, members, pins); each part is a few lines over the SDK, and MessageWindow and UnreadAnchor hold the logic. */
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { ChatClient } from '../../ChatClient.ts';
import type { ChatRoom, ClientMessage, SendInput, TypingUser } from '../../room/ChatRoom.ts';
import type { ChatMember, ChatMemberRole } from '../../../shared/models/chatMember.ts';
import type { User } from '../../../shared/models/user.ts';
import type { UserPresence } from '../../../shared/models/userPresence.ts';
import type { ConnectionState } from '../../sync/RoomConnection.ts';
import { ClientError } from '../../errors/ClientError.ts';
import { refusalMayPass } from '../../errors/describeRefusal.ts';
import { LATEST, type MessageWindow, PAGE_SIZE, newerWindow, olderWindow, readWindow, windowAround } from './MessageWindow.ts';
import { StableMessages } from './StableMessages.ts';
import { UnreadAnchor } from './UnreadAnchor.ts';

export { MAX_WINDOW, PAGE_SIZE } from './MessageWindow.ts';

/**
 * One open room for the room view: a bounded window of its messages, their states, typing,
 * presence, members and read positions. Every SDK subscription of the room view lives here.
 */
export class RoomController implements ReactiveController {
  readonly #host: ReactiveControllerHost;
  room: ChatRoom | null = null;
  roomId: string | null = null;
  /** The room whose messages `messages` holds: null until the opened room was first read. */
  loadedRoomId: string | null = null;
  messages: readonly ClientMessage[] = [];
  /** The room's pinned messages, newest pin first (ChatRoom.pinnedMessages). */
  pinned: readonly ClientMessage[] = [];
  /** Unread replies per thread root in the window (roots with none unread are not listed). */
  threadUnread: ReadonlyMap<string, number> = new Map();
  hasOlder = false;
  /** Whether newer messages exist below the window (after paging far back). */
  hasNewer = false;
  typing: readonly TypingUser[] = [];
  presence: ReadonlyMap<string, UserPresence> = new Map();
  members: readonly ChatMember[] = [];
  readPositions: ReadonlyMap<string, string> = new Map();
  myReadPosition: string | null = null;
  connection: ConnectionState = 'connecting';
  error: string | null = null;
  /** Set once the user lost the room (removed, or it is gone): it stays readable, writing ends. */
  lost: string | null = null;
  /** Set (a new object each time) when the list is to bring this message into view, the divider above it. */
  reveal: { readonly id: string } | null = null;
  #window: MessageWindow = LATEST;
  #unread = new UnreadAnchor('', () => undefined);
  #client: ChatClient | null = null;
  #offs: Array<() => void> = [];
  #frame: number | null = null;
  readonly #rows = new StableMessages();
  #paintedFor: string | null = null;
  #atBottom = true;
  #opening = 0;
  /** A message to show once the room is open (a search result, a link), or null. */
  #focusId: string | null = null;
  /**
   * The last `show()`: the room it opened, or null. A message sent while it runs (the composer
   * shows before the room has loaded) waits for it instead of being dropped.
   */
  #opened: Promise<ChatRoom | null> = Promise.resolve(null);

  constructor(host: ReactiveControllerHost) {
    this.#host = host;
    host.addController(this);
  }

  hostConnected(): void {}

  hostDisconnected(): void {
    void this.#close();
  }

  get myId(): string | null {
    return this.#client?.user.id ?? null;
  }

  /** Opens `roomId` on `client` (closing the room shown before); null shows nothing. */
  async show(client: ChatClient | null, roomId: string | null): Promise<void> {
    if (client === this.#client && roomId === this.roomId) return;
    this.#opened = this.#show(client, roomId);
    await this.#opened;
  }

  async #show(client: ChatClient | null, roomId: string | null): Promise<ChatRoom | null> {
    const attempt = ++this.#opening;
    await this.#close();
    this.#client = client;
    this.roomId = roomId;
    this.#window = LATEST;
    [this.#unread, this.reveal] = [new UnreadAnchor(client?.user.id ?? '', () => this.#schedule()), null];
    this.#atBottom = true;
    this.#paintedFor = null;
    this.error = null;
    this.lost = null;
    this.#host.requestUpdate();
    if (!client || !roomId) return null;
    // A large room paints its newest messages as the device last saw them while it loads.
    void this.#paintRecent(client, roomId, attempt);
    let room: ChatRoom;
    try {
      room = await client.openRoom(roomId);
    } catch (error) {
      if (attempt === this.#opening) {
        this.error = error instanceof Error ? error.message : String(error);
        this.#host.requestUpdate();
      }
      return null;
    }
    if (attempt !== this.#opening) return null;
    this.room = room;
    this.connection = room.connectionState;
    this.#offs = [
      room.on('change', () => this.#schedule()),
      room.on('states', () => this.#schedule()),
      room.on('typing', (users) => {
        this.typing = users;
        this.#host.requestUpdate();
      }),
      room.on('presence', (presence) => {
        this.presence = new Map(presence.map((p) => [p.user_id, p]));
        this.#host.requestUpdate();
        this.#announcePresence(presence);
      }),
      room.on('connection', (state) => {
        this.connection = state;
        this.#schedule();
      }),
      room.on('error', (error) => {
        if (error.code === 'access_denied') this.#markLost();
      }),
      client.on('roomRemoved', ({ roomId: removed }) => {
        if (removed === this.roomId) this.#markLost();
      }),
    ];
    if (room.connectionStopped?.code === 'access_denied') this.#markLost();
    this.presence = new Map(room.presence().map((p) => [p.user_id, p]));
    this.typing = room.typingUsers();
    this.#recompute();
    if (this.#focusId !== null) void this.#focusNow(this.#focusId);
    return room;
  }

  /** Shows message `id` with the messages around it, now or once the room shown is open. */
  focus(id: string | null): void {
    this.#focusId = id;
    if (id !== null && this.room) void this.#focusNow(id);
  }

  async #focusNow(id: string): Promise<void> {
    this.#focusId = null;
    this.#unread.skip();
    await this.jumpTo(id);
  }

  async #paintRecent(client: ChatClient, roomId: string, attempt: number): Promise<void> {
    const recent = await client.recentMessages(roomId).catch(() => null);
    if (!recent || attempt !== this.#opening || this.room) return;
    [this.messages, this.loadedRoomId, this.hasOlder, this.hasNewer] = [recent.map((m) => this.#rows.stable(m)), roomId, true, false];
    this.#host.requestUpdate();
  }

  /** The room's live presence also freshens the room list's dots (`room-presence` on the host element). */
  #announcePresence(presence: readonly UserPresence[]): void {
    if (this.#host instanceof HTMLElement) this.#host.dispatchEvent(new CustomEvent('room-presence', { detail: presence, bubbles: true, composed: true }));
  }

  /** Whether the list is scrolled to its newest message (then new messages count as read). */
  setAtBottom(atBottom: boolean): void {
    this.#atBottom = atBottom;
    if (atBottom) this.#markRead();
  }

  /** Called by the list once it has painted a room's newest messages for the first time. */
  painted(): void {
    if (!this.roomId || this.#paintedFor === this.roomId) return;
    this.#paintedFor = this.roomId;
    performance.mark('parley:room-painted');
  }

  loadOlder(): void {
    if (!this.room) return;
    // A window not filled yet (a segment opening) grows on its 'change', not render for render.
    if (!this.hasOlder || this.messages.length < this.#window.size) return;
    this.#window = olderWindow(this.#window, this.messages);
    this.#recompute();
  }

  loadNewer(): void {
    const last = this.messages.at(-1);
    if (!this.room || !this.hasNewer || !last) return;
    const next = newerWindow(this.room, this.#window, last.id);
    if (!next) return;
    this.#window = next;
    this.#recompute();
  }

  /** Where the room opened: the first unread message then (the divider goes above it), or none. */
  get unread(): Pick<UnreadAnchor, 'firstId' | 'count' | 'decided'> {
    return this.#unread;
  }

  /** Renders the window around the first unread and has the list bring it into view. */
  async jumpToFirstUnread(): Promise<void> {
    const id = this.#unread.firstId;
    if (id !== null) await this.jumpTo(id);
  }

  /** Renders the window around message `id` (a pinned one, the first unread) and has the list bring it into view. */
  async jumpTo(id: string): Promise<void> {
    const room = this.room;
    if (!room) return;
    if (room.segmented) {
      // Its segment may have left memory: opened first, the window around it reads whole at once.
      await room.loadHistory({ beforeId: `${id}\uffff` }).catch(() => undefined);
      // A message near its segment's start has part of its context in the segment before: that
      // one too, or the message would show at the top with nothing above it until it arrived.
      const before = room.messages({ beforeId: id, limit: PAGE_SIZE });
      const oldest = before.messages[0]?.id ?? id;
      if (before.messages.length < PAGE_SIZE && before.hasMore) await room.loadHistory({ beforeId: oldest }).catch(() => undefined);
    }
    if (room !== this.room) return;
    this.#around(room, id);
    this.#recompute();
  }

  #around(room: ChatRoom, id: string): void {
    [this.#window, this.reveal] = [windowAround(room, id), { id }];
    // Not at the bottom any more: the list says where it is once it has scrolled there.
    this.#atBottom = false;
  }

  /** Back to the newest messages (the "jump to latest" button, sending a message). */
  jumpToLatest(): void {
    this.#unread.skip();
    if (this.#window.endBefore === null) return;
    this.#window = LATEST;
    this.#recompute();
  }

  /** Sends to the room; `relations` may quote a message or (the thread panel) reply in a thread. */
  async send(content: string, mentionedUsers: readonly string[] = [], relations: Pick<SendInput, 'quotedMessageId' | 'parentId' | 'showInChannel'> = {}): Promise<void> {
    if (relations.parentId === undefined || relations.showInChannel === true) this.jumpToLatest();
    await this.#run(async () => (await this.#openRoom())?.send({ content, ...relations, ...(mentionedUsers.length > 0 ? { mentionedUsers } : {}) }));
  }

  /** The room shown, once open if it is opening (null: none, it failed to open, or it was closed meanwhile). */
  async #openRoom(): Promise<ChatRoom | null> {
    if (this.room) return this.room;
    const room = await this.#opened;
    return room !== null && room === this.room ? room : null;
  }

  pin(id: string, on: boolean): Promise<void> {
    return this.#run(() => (on ? this.room?.pin(id) : this.room?.unpin(id)));
  }

  edit(id: string, content: string): Promise<void> {
    return this.#run(() => this.room?.edit(id, { content }));
  }

  delete(id: string): Promise<void> {
    return this.#run(() => this.room?.delete(id));
  }

  toggleReaction(id: string, reaction: string): Promise<void> {
    const me = this.myId;
    const message = this.messages.find((m) => m.id === id);
    const mine = me !== null && (message?.reactions[reaction] ?? []).includes(me);
    return this.#run(() => (mine ? this.room?.unreact(id, reaction) : this.room?.react(id, reaction)));
  }

  /** Drops this device's refused changes so the room syncs again (rejected messages go). */
  async discardRejected(): Promise<void> {
    const client = this.#client;
    const roomId = this.roomId;
    if (!client || !roomId) return;
    await this.#close();
    await client.discardLocalChanges(roomId);
    this.roomId = null;
    await this.show(client, roomId);
  }

  searchUsers(prefix: string): Promise<User[]> {
    return this.#client?.searchUsers(prefix) ?? Promise.resolve([]);
  }

  addMember(userId: string): Promise<void> {
    return this.#run(() => this.#client?.addMember(this.roomId ?? '', userId));
  }

  setRole(userId: string, role: ChatMemberRole): Promise<void> {
    return this.#run(() => this.#client?.setMemberRole(this.roomId ?? '', userId, role));
  }

  removeMember(userId: string): Promise<void> {
    return this.#run(() => this.#client?.removeMember(this.roomId ?? '', userId));
  }

  /** Leaves the room; resolves true when it worked (the view then goes back to the list). */
  async leave(): Promise<boolean> {
    const client = this.#client;
    const roomId = this.roomId;
    if (!client || !roomId) return false;
    try {
      await this.#close();
      await client.leaveRoom(roomId);
      this.roomId = null;
      return true;
    } catch (error) {
      this.error = error instanceof Error ? error.message : String(error);
      this.roomId = null;
      await this.show(client, roomId);
      return false;
    }
  }

  /**
   * Retries a refused message: for a refusal that can pass later (a full room an owner made room
   * in) the held changes are sent again as they are; a message whose files were refused
   * (`bad_attachment`) while the device still holds them has them uploaded again and is rewritten
   * (ChatClient.uploads, which does so by itself a few times first); otherwise the held changes
   * are dropped and the text is sent again as a new message.
   */
  async retry(id: string): Promise<void> {
    const refusal = this.room?.refusal;
    if (this.room && refusal && refusalMayPass(refusal.code)) return this.room.resend();
    const uploads = this.#client?.uploads;
    if (refusal?.code === 'bad_attachment' && uploads?.holds(id)) return uploads.retry(id);
    const content = this.messages.find((m) => m.id === id)?.content;
    await this.discardRejected();
    if (content) await this.send(content);
  }

  #markLost(): void {
    this.lost = 'You are no longer a member of this room. What this device holds stays readable; nothing more can be sent here.';
    this.#host.requestUpdate();
  }

  clearError(): void {
    this.error = null;
    this.#host.requestUpdate();
  }

  typingNow(): void {
    this.room?.startTyping();
  }

  stoppedTyping(): void {
    this.room?.stopTyping();
  }

  async #run(action: () => Promise<unknown> | undefined): Promise<void> {
    try {
      await action();
    } catch (error) {
      this.error = error instanceof ClientError ? error.message : String(error);
      this.#host.requestUpdate();
    }
  }

  #schedule(): void {
    if (this.#frame !== null) return;
    // Coalesces bursts (a sync delivering hundreds of updates) into one render per frame.
    this.#frame = requestAnimationFrame(() => {
      this.#frame = null;
      if (this.room) this.#unread.refreshCount(this.room);
      this.#recompute();
    });
  }

  #recompute(): void {
    const room = this.room;
    if (!room || room.closed) return;
    if (this.#unread.decide(room) === 'unread' && this.#unread.firstId !== null) this.#around(room, this.#unread.firstId);
    const page = readWindow(room, this.#window);
    this.messages = page.messages.map((m) => this.#rows.stable(m));
    this.loadedRoomId = room.id;
    this.hasOlder = page.hasMore || (page.messages.length === 0 && room.connectionState === 'connecting'); // empty while the first sync runs: not the start
    this.hasNewer = this.#window.endBefore !== null;
    this.members = room.members().filter((m) => m.is_active);
    this.readPositions = room.readPositions();
    this.myReadPosition = room.readPosition();
    this.pinned = room.pinnedMessages();
    this.threadUnread = new Map(this.messages.flatMap((m) => (m.reply_count > 0 ? [[m.id, room.threads.unreadCount(m.id)] as const] : [])).filter(([, n]) => n > 0));
    this.#host.requestUpdate();
    this.#markRead();
  }

  #markRead(): void {
    const room = this.room;
    const newest = this.messages[this.messages.length - 1];
    if (!room || room.closed || !newest || this.hasNewer || !this.#atBottom || !this.#unread.decided || document.visibilityState !== 'visible') return;
    const position = room.readPosition();
    if (position !== null && newest.id <= position) return;
    room.markRead(newest.id).catch(() => undefined);
  }

  async #close(): Promise<void> {
    for (const off of this.#offs) off();
    this.#offs = [];
    if (this.#frame !== null) cancelAnimationFrame(this.#frame);
    this.#frame = null;
    const room = this.room;
    this.room = null;
    this.loadedRoomId = null;
    this.messages = [];
    this.typing = [];
    this.members = [];
    this.#rows.clear();
    await room?.close();
  }
}
