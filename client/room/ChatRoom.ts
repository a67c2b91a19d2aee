/* Over 350 lines for a reason: ChatRoom is the SDK's one public room object; each method is a short delegation to RoomDocuments, RoomPeople, RoomPins or a shared operation, and splitting it would split the API. */
import * as Y from 'yjs';
import * as awarenessProtocol from 'y-protocols/awareness';
import type { JsonObject } from '../../shared/json.ts';
import type { AttachmentRef } from '../../shared/models/attachment.ts';
import type { ChatMember, ChatMemberRole } from '../../shared/models/chatMember.ts';
import type { ChatMessage, MessageType } from '../../shared/models/chatMessage.ts';
import type { UserPresence } from '../../shared/models/userPresence.ts';
import type { User } from '../../shared/models/user.ts';
import type { Actor } from '../../shared/roomDoc/actor.ts';
import { createMessage, deleteMessage, editMessage, reattachMessage } from '../../shared/roomDoc/messageOps.ts';
import type { MessageView } from '../../shared/roomDoc/messageView.ts';
import { getMessage } from '../../shared/roomDoc/queries.ts';
import { addReaction, removeReaction } from '../../shared/roomDoc/reactionOps.ts';
import { pinMessage, unpinMessage } from '../../shared/roomDoc/pinOps.ts';
import { withPin } from '../../shared/roomDoc/pinReads.ts';
import { checkMentions } from './checkMentions.ts';
import { RoomPins } from './RoomPins.ts';
import { markRead, readPosition, readPositions } from '../../shared/roomDoc/readOps.ts';
import type { Failure, RoomDocErrorCode } from '../../shared/roomDoc/result.ts';
import { ClientError } from '../errors/ClientError.ts';
import { Emitter } from '../events/Emitter.ts';
import type { ConnectionState, RoomConnection } from '../sync/RoomConnection.ts';
import type { MessageState, RoomReplica } from './RoomReplica.ts';
import type { SegmentOpener } from './RoomSegments.ts';
import type { RecentPage } from './RecentPage.ts';
import { toClientMessage } from './toClientMessage.ts';
import { RoomDocuments } from './RoomDocuments.ts';
import { RoomPeople, type TypingUser } from './RoomPeople.ts';
import { RoomThreads, type ThreadApi, threadApi } from './RoomThreads.ts';
import { markThreadRead } from '../../shared/roomDoc/threadOps.ts';

export type { TypingUser } from './RoomPeople.ts';

/** A message as the app reads it: the chat API's ChatMessage plus its delivery state. */
export type ClientMessage = ChatMessage & { readonly state: MessageState };

export interface SendInput {
  readonly content: string;
  /** 'system' messages come from the server only; sending one fails with invalid_payload. */
  readonly type?: MessageType;
  readonly meta?: JsonObject;
  /** A UUIDv7 the app minted (idempotency key); generated when absent. */
  readonly id?: string;
  /** A reply in the thread under this root (docs/client.md, "Threads and quoted replies"); showInChannel also shows it in the room. */
  readonly parentId?: string;
  readonly showInChannel?: boolean;
  readonly quotedMessageId?: string;
  readonly mentionedUsers?: readonly string[];
  /**
   * Files already uploaded to this room (image and file messages). Apps send files through
   * ChatClient.uploads, which uploads them first and then sends the message with these.
   */
  readonly attachments?: readonly AttachmentRef[];
}

export interface ChatRoomEvents {
  [name: string]: unknown;
  /** The room's messages, reactions or read positions changed (locally or from the server). */
  change: undefined;
  /** Message delivery states moved (pending -> sent, or rejected). */
  states: undefined;
  typing: readonly TypingUser[];
  presence: readonly UserPresence[];
  connection: ConnectionState;
  error: ClientError;
}

export interface ChatRoomDeps {
  readonly replica: RoomReplica;
  readonly connection: RoomConnection;
  readonly awareness: awarenessProtocol.Awareness;
  readonly user: User;
  readonly members: readonly ChatMember[];
  readonly cachedPresence: readonly UserPresence[];
  readonly typingTimeoutMs: number;
  readonly now: () => number;
  /** Opens one of the room's segment documents on this device, once the room is segmented. */
  readonly openSegment: SegmentOpener;
  /** The newest messages as last seen, shown while the segments holding them open (segmented rooms). */
  readonly recent: RecentPage;
  readonly onClose: () => Promise<void>;
}

/**
 * An open room: reads come from the local document (instant, offline too), writes go through
 * the shared room-document operations (the same rules the server validates), and every write
 * resolves once it is stored on the device; its delivery state says when the server has it.
 */
export class ChatRoom {
  readonly id: string;
  readonly #d: ChatRoomDeps;
  readonly #events = new Emitter<ChatRoomEvents>();
  /**
   * Page messages as converted since the room last changed (`change` or `states`), by id: a
   * reader scrolling asks for a 200-message window per page added, 150 of them unchanged, and
   * converting them again was a third of what scrolling allocated (garbage the page's frames paid
   * for in collections). Only pages use it: a page reads each id from one place per change.
   */
  readonly #pageCache = new Map<string, ClientMessage>();
  readonly #unsubscribe: Array<() => void> = [];
  #members: readonly ChatMember[];
  readonly #people: RoomPeople;
  #closed = false;
  /** Where the messages are on this device: the room's document, or its segments once segmented. */
  readonly #docs: RoomDocuments;
  readonly #pins: RoomPins;
  readonly #threads: RoomThreads;
  /** Threads: a thread's pages, my read position and unread count in it, its summary (RoomThreads). */
  readonly threads: ThreadApi<ClientMessage>;

  constructor(deps: ChatRoomDeps) {
    this.id = deps.replica.roomId;
    this.#d = deps;
    // First of all listeners: nothing reads a page between a change and the cache's end.
    const forget = (): void => this.#pageCache.clear();
    this.#events.on('change', forget);
    this.#events.on('states', forget);
    this.#members = deps.members;
    const { awareness, user, cachedPresence, typingTimeoutMs } = deps;
    this.#people = new RoomPeople({
      ...{ awareness, user, cachedPresence, typingTimeoutMs },
      onPresence: (presence) => this.#events.emit('presence', presence),
      onTyping: (typing) => this.#events.emit('typing', typing),
    });
    this.#docs = new RoomDocuments({
      head: deps.replica,
      headConnection: deps.connection,
      recent: deps.recent,
      opener: deps.openSegment,
      onChange: () => this.#events.emit('change', undefined),
      onStates: () => this.#events.emit('states', undefined),
      onError: (e) => this.#events.emit('error', e),
    });
    this.#pins = new RoomPins({ head: deps.replica, sources: this.#docs, onError: (e) => this.#events.emit('error', e) });
    this.#threads = new RoomThreads({ head: deps.replica, docs: this.#docs, userId: deps.user.id });
    this.threads = threadApi(this.#threads, (view) => this.#toClient(view), async (rootId, replyId) => {
      const { result, stored } = this.#write(this.#d.replica, (actor) => markThreadRead(this.doc, actor, rootId, replyId));
      await stored;
      return { moved: result.moved };
    });
    this.#unsubscribe.push(
      deps.replica.on('changed', () => {
        this.#events.emit('change', undefined);
        // The server moving this device's messages into segments settles their delivery states.
        if (this.#docs.segmented) this.#events.emit('states', undefined);
      }),
      deps.replica.on('states', () => this.#events.emit('states', undefined)),
      deps.replica.on('error', (e) => this.#events.emit('error', e)),
      deps.connection.on('recent', (messages) => this.#docs.recentReceived(messages)),
      deps.connection.on('state', (s) => this.#events.emit('connection', s)),
      deps.connection.on('error', (e) => this.#events.emit('error', e)),
      deps.connection.on('stopped', (e) => this.#events.emit('error', e)),
      deps.connection.on('refused', (e) => this.#events.emit('error', e)),
    );
    this.#unsubscribe.push(() => this.#people.close());
  }

  on<K extends keyof ChatRoomEvents>(name: K, listener: (payload: ChatRoomEvents[K]) => void): () => void {
    return this.#events.on(name, listener);
  }

  /** Why the room's sync stopped for good (`access_denied`: removed, or the room is gone); null while it syncs. */
  get connectionStopped(): ClientError | null {
    return this.#d.connection.stopped;
  }

  get connectionState(): ConnectionState {
    return this.#d.connection.state;
  }

  /** The room's own document: all of it while the room is one document; once segmented, its head (read positions, the segments). */
  get doc(): Y.Doc {
    return this.#d.replica.doc;
  }

  /** Whether the room's history is in segments (paging back then opens older segments: loadHistory). */
  get segmented(): boolean {
    return this.#docs.segmented;
  }

  /**
   * Opens the segment that holds the messages just before `beforeId` (the newest overall when
   * absent), so that `messages()` reaches further back; resolves once it is synced (a sealed
   * one: once it holds every message it was sealed with), or at once offline with what the
   * device holds of it. `messages()` starts this itself
   * when a page runs into a segment not open yet, and emits `change` when it is.
   */
  loadHistory({ beforeId }: { beforeId?: string } = {}): Promise<void> {
    return this.#docs.loadHistory(beforeId);
  }

  /**
   * The newest `limit` messages before `beforeId` (or the newest overall), oldest first; with
   * `afterId` instead, the oldest `limit` messages after it (paging forward again after paging
   * back), and `hasMore` says whether newer ones follow. Both are O(log n + limit).
   */
  messages({ beforeId, afterId, limit = 50 }: { beforeId?: string; afterId?: string; limit?: number } = {}): { messages: ClientMessage[]; hasMore: boolean } {
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > 1000) throw new ClientError('invalid_payload', 'limit must be an integer from 1 to 1000');
    if (afterId !== undefined && beforeId !== undefined) throw new ClientError('invalid_payload', 'give beforeId or afterId, not both');
    const page = afterId !== undefined ? this.#docs.pageAfter(afterId, limit) : this.#docs.pageBefore(beforeId, limit);
    return { messages: page.messages.map((view) => this.#pageMessage(view)), hasMore: page.hasMore };
  }

  getMessage(id: string): ClientMessage | null {
    const view = this.#docs.find(id)?.view ?? this.#docs.recentView(id);
    return view ? this.#toClient(view) : null;
  }

  lastMessage(): ClientMessage | null {
    const view = this.#docs.lastView();
    return view ? this.#toClient(view) : null;
  }

  /**
   * Set when the server refused one of this room's updates. The room keeps syncing the others'
   * changes, but holds this device's writes (they show as rejected with this refusal: sending
   * them again would be refused again) until `resend()`, or until the app calls
   * ChatClient.discardLocalChanges(roomId), which drops them. Null otherwise.
   * `describeRefusal` (client/errors) words it for people.
   */
  get refusal(): { readonly code: string; readonly reason: string } | null {
    return this.#docs.refusal();
  }

  /**
   * Sends the held changes again: for a refusal that someone else can fix (`document_too_large`:
   * an owner deleted old messages). Refused again, they are held again with the new refusal.
   */
  resend(): void {
    this.#d.replica.resend();
    this.#d.connection.holdWrites(false);
    this.#docs.resendSegments();
  }

  messageState(id: string): MessageState | null {
    return this.#docs.messageState(id);
  }

  /**
   * Sends a message. It is readable at once (before the promise settles); the promise resolves
   * with it once it is stored on the device, and rejects with a ClientError for bad input or a
   * storage failure (`storage_full`). Delivery follows as its `state`.
   */
  async send(input: SendInput): Promise<ClientMessage> {
    if (input.mentionedUsers !== undefined) checkMentions(input.mentionedUsers, this.#members);
    const now = this.#docs.target(null);
    const target = now instanceof Promise ? await now : now;
    const { result, stored } = this.#write(target, (actor) =>
      createMessage(target.doc, actor, {
        content: input.content,
        now: this.#d.now(),
        ...(input.type === undefined ? {} : { type: input.type }),
        ...(input.meta === undefined ? {} : { meta: input.meta }),
        ...(input.id === undefined ? {} : { id: input.id }),
        ...relationsOf(input),
      }),
    );
    // As written: by the time it is stored, the server may have moved it into a segment not open here.
    const written = getMessage(target.doc, result.id);
    await stored;
    const message = this.getMessage(result.id) ?? (written ? this.#toClient(written) : null);
    if (!message) throw new ClientError('not_found', `message ${result.id} vanished`);
    return message;
  }

  /**
   * @internal ChatClient.uploads: gives a message of mine that the server refused for its files
   * (`bad_attachment`: an upload was gone) the references of its files uploaded again, and sends
   * the writes held since that refusal again. A message the server holds is left as it is (it
   * would refuse changing its attachments); so is a refusal for another reason (it waits for the
   * app's `resend()` or Discard, and the rewritten message goes with them).
   */
  async reattach(id: string, attachments: readonly AttachmentRef[]): Promise<void> {
    if (this.messageState(id)?.state === 'sent') return;
    await this.#change(id, (doc, actor) => reattachMessage(doc, actor, { id, attachments }));
    if (this.refusal?.code === 'bad_attachment') this.resend();
  }

  async edit(id: string, changes: { content?: string; meta?: JsonObject }): Promise<void> {
    await this.#change(id, (doc, actor) => editMessage(doc, actor, { id, now: this.#d.now(), ...changes }));
  }

  async delete(id: string): Promise<void> {
    await this.#change(id, (doc, actor) => deleteMessage(doc, actor, { id, now: this.#d.now() }));
  }

  async react(messageId: string, reaction: string): Promise<void> {
    await this.#change(messageId, (doc, actor) => addReaction(doc, actor, { messageId, reaction, now: this.#d.now() }));
  }

  async unreact(messageId: string, reaction: string): Promise<void> {
    await this.#change(messageId, (doc, actor) => removeReaction(doc, actor, { messageId, reaction }));
  }

  /** Pins a message (owners and admins: else `forbidden`); the pin lives in the room's head. Pinning a pinned message keeps its pin. */
  async pin(messageId: string): Promise<void> {
    const holder = await this.#pins.holder(messageId);
    await this.#write(this.#d.replica, (actor) => pinMessage(this.doc, actor, { messageId, now: this.#d.now(), holder })).stored;
  }

  async unpin(messageId: string): Promise<void> {
    await this.#write(this.#d.replica, (actor) => unpinMessage(this.doc, actor, messageId)).stored;
  }

  /** Pinned messages, newest pin first (deleted ones left out). Segmented: opens the segments holding them; `change` follows. */
  pinnedMessages(): ClientMessage[] {
    return this.#pins.list().map((view) => this.#toClient(view));
  }

  /** Writes a change about a message into the document that holds it (its segment, opened if needed). */
  async #change(id: string, op: (doc: Y.Doc, actor: Actor) => { ok: true } | Failure<RoomDocErrorCode>): Promise<void> {
    const found = this.#docs.target(id);
    const target = found instanceof Promise ? await found : found;
    await this.#write(target, (actor) => op(target.doc, actor)).stored;
  }

  /** Moves my read position forward to `messageId` (never backwards: then `moved` is false). Positions live in the room's own document (the head). */
  async markRead(messageId: string): Promise<{ moved: boolean }> {
    if (this.#docs.segmented && !this.#docs.find(messageId) && !this.#docs.recentView(messageId)) throw new ClientError('not_found', `no message ${messageId}`);
    const { result, stored } = this.#write(this.#d.replica, (actor) => markRead(this.doc, actor, messageId));
    await stored;
    return { moved: result.moved };
  }

  /** A user's read position (the newest message id they read, on any device); mine by default. */
  readPosition(userId: string = this.#d.user.id): string | null {
    return readPosition(this.doc, userId);
  }

  /** Every member's read position (user id -> newest message id read), for read receipts. */
  readPositions(): Map<string, string> {
    return readPositions(this.doc);
  }

  /** Whether I may delete other people's messages and manage members (owner or admin here). */
  get myRole(): ChatMemberRole {
    return this.#actor().role;
  }

  /**
   * Messages after my read position that others sent. In a segmented room: exact over the
   * segments open on this device, plus the sealed counts of segments after my position that are
   * not open (those include my own messages: an estimate while they are not read).
   */
  unreadCount(): number {
    return this.#docs.unreadCount(this.#d.user.id);
  }

  /** Resolves once the message is on the server; rejects with `update_refused` if it was rejected. */
  whenSent(id: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const state = this.messageState(id);
        if (state?.state === 'sent') resolve();
        else if (state?.state === 'rejected') reject(new ClientError('update_refused', `${state.code}: ${state.reason}`));
        else return false;
        return true;
      };
      if (check()) return;
      const off = this.on('states', () => {
        if (check()) off();
      });
    });
  }

  /** I am typing; it clears itself after `typingTimeoutMs` without another call. */
  startTyping(): void {
    if (!this.#closed) this.#people.startTyping();
  }

  stopTyping(): void {
    this.#people.stopTyping(!this.#closed);
  }

  /** Other people typing in this room now. */
  typingUsers(): TypingUser[] {
    return this.#people.typingUsers();
  }

  /** Presence of the room's members: live from the server while connected, else the cached one. */
  presence(): UserPresence[] {
    return this.#people.presence();
  }

  members(): readonly ChatMember[] {
    return this.#members;
  }

  /** @internal The client refreshes members when the REST API answers or the user feed brings them. */
  setMembers(members: readonly ChatMember[]): void {
    this.#members = members;
    // Sender names and my role come from the member list.
    if (!this.#closed) this.#events.emit('change', undefined);
  }

  get closed(): boolean {
    return this.#closed;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.stopTyping();
    this.#closed = true;
    for (const off of this.#unsubscribe) off();
    this.#events.clear();
    await this.#docs.close();
    await this.#d.onClose();
  }

  #actor(): Actor {
    const role: ChatMemberRole = this.#members.find((m) => m.user_id === this.#d.user.id)?.role ?? 'member';
    return { userId: this.#d.user.id, role };
  }

  #write<T extends { ok: true } | Failure<RoomDocErrorCode>>(replica: RoomReplica, op: (actor: Actor) => T): { result: Extract<T, { ok: true }>; stored: Promise<void> } {
    if (this.#closed) throw new ClientError('closed', 'the room is closed');
    const { result, stored } = replica.write(() => op(this.#actor()));
    if (!result.ok) throw new ClientError(result.code, result.message);
    return { result: result as Extract<T, { ok: true }>, stored };
  }

  #pageMessage(view: MessageView): ClientMessage {
    const cached = this.#pageCache.get(view.id);
    if (cached) return cached;
    if (this.#pageCache.size >= PAGE_CACHE_MAX) this.#pageCache.clear();
    const message = this.#toClient(view);
    this.#pageCache.set(view.id, message);
    return message;
  }

  #toClient(view: MessageView): ClientMessage {
    return toClientMessage(withPin(this.#threads.enrich(view), this.doc), this.id, this.#d.user, this.#members, this.messageState(view.id) ?? { state: 'sent' });
  }
}

/** Most page messages kept converted (a few windows of the web app's 200). */
const PAGE_CACHE_MAX = 1_000;

const relationsOf = ({ parentId, showInChannel, quotedMessageId, mentionedUsers, attachments }: SendInput) => ({
  ...(parentId === undefined ? {} : { parentId }),
  ...(showInChannel === undefined ? {} : { showInChannel }),
  ...(quotedMessageId === undefined ? {} : { quotedMessageId }),
  ...(mentionedUsers === undefined ? {} : { mentionedUsers }),
  ...(attachments === undefined ? {} : { attachments }),
});
