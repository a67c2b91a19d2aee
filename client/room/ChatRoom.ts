import * as Y from 'yjs';
import * as awarenessProtocol from 'y-protocols/awareness';
import type { JsonObject } from '../../shared/json.ts';
import type { ChatMember, ChatMemberRole } from '../../shared/models/chatMember.ts';
import type { ChatMessage, MessageType } from '../../shared/models/chatMessage.ts';
import type { UserPresence } from '../../shared/models/userPresence.ts';
import { PeerStateSchema, ServerPresenceStateSchema } from '../../shared/protocol/awarenessStates.ts';
import type { User } from '../../shared/models/user.ts';
import type { Actor } from '../../shared/roomDoc/actor.ts';
import { createMessage, deleteMessage, editMessage } from '../../shared/roomDoc/messageOps.ts';
import type { MessageView } from '../../shared/roomDoc/messageView.ts';
import { getMessage, lastMessage, listMessages, unreadCount } from '../../shared/roomDoc/queries.ts';
import { roomIndex } from '../../shared/roomDoc/RoomIndex.ts';
import { addReaction, removeReaction } from '../../shared/roomDoc/reactionOps.ts';
import { markRead, readPosition, readPositions } from '../../shared/roomDoc/readOps.ts';
import type { Failure, RoomDocErrorCode } from '../../shared/roomDoc/result.ts';
import { toChatMessage } from '../../shared/roomDoc/toChatMessage.ts';
import { ClientError } from '../errors/ClientError.ts';
import { Emitter } from '../events/Emitter.ts';
import type { ConnectionState, RoomConnection } from '../sync/RoomConnection.ts';
import type { MessageState, RoomReplica } from './RoomReplica.ts';

/** A message as the app reads it: the chat API's ChatMessage plus its delivery state. */
export type ClientMessage = ChatMessage & { readonly state: MessageState };

export interface SendInput {
  readonly content: string;
  /** 'system' messages come from the server only; sending one fails with invalid_payload. */
  readonly type?: MessageType;
  readonly meta?: JsonObject;
  /** A UUIDv7 the app minted (idempotency key); generated when absent. */
  readonly id?: string;
}

export interface TypingUser {
  readonly id: string;
  readonly name: string;
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

/** The server's own awareness entry in a room (docs/protocol.md, "Presence"). */

export interface ChatRoomDeps {
  readonly replica: RoomReplica;
  readonly connection: RoomConnection;
  readonly awareness: awarenessProtocol.Awareness;
  readonly user: User;
  readonly members: readonly ChatMember[];
  readonly cachedPresence: readonly UserPresence[];
  readonly typingTimeoutMs: number;
  readonly now: () => number;
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
  readonly #unsubscribe: Array<() => void> = [];
  #members: readonly ChatMember[];
  #presence = new Map<string, UserPresence>();
  #typingTimer: ReturnType<typeof setTimeout> | null = null;
  #closed = false;

  constructor(deps: ChatRoomDeps) {
    this.id = deps.replica.roomId;
    this.#d = deps;
    this.#members = deps.members;
    for (const p of deps.cachedPresence) this.#presence.set(p.user_id, p);
    deps.awareness.setLocalState({ user: { id: deps.user.id, name: deps.user.name }, typing: false });
    this.#unsubscribe.push(
      deps.replica.on('changed', () => this.#events.emit('change', undefined)),
      deps.replica.on('states', () => this.#events.emit('states', undefined)),
      deps.replica.on('error', (e) => this.#events.emit('error', e)),
      deps.connection.on('state', (s) => this.#events.emit('connection', s)),
      deps.connection.on('error', (e) => this.#events.emit('error', e)),
      deps.connection.on('stopped', (e) => this.#events.emit('error', e)),
      deps.connection.on('refused', (e) => this.#events.emit('error', e)),
    );
    const onAwareness = (): void => this.#onAwareness();
    deps.awareness.on('change', onAwareness);
    this.#unsubscribe.push(() => deps.awareness.off('change', onAwareness));
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

  get doc(): Y.Doc {
    return this.#d.replica.doc;
  }

  /**
   * The newest `limit` messages before `beforeId` (or the newest overall), oldest first; with
   * `afterId` instead, the oldest `limit` messages after it (paging forward again after paging
   * back), and `hasMore` says whether newer ones follow. Both are O(log n + limit).
   */
  messages({ beforeId, afterId, limit = 50 }: { beforeId?: string; afterId?: string; limit?: number } = {}): { messages: ClientMessage[]; hasMore: boolean } {
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > 1000) throw new ClientError('invalid_payload', 'limit must be an integer from 1 to 1000');
    if (afterId !== undefined) {
      if (beforeId !== undefined) throw new ClientError('invalid_payload', 'give beforeId or afterId, not both');
      const index = roomIndex(this.doc);
      const start = index.upperBound(afterId);
      const end = Math.min(index.size, start + limit);
      const views = index.idsBetween(start, end).flatMap((id) => getMessage(this.doc, id) ?? []);
      return { messages: views.map((view) => this.#toClient(view)), hasMore: end < index.size };
    }
    const page = listMessages(this.doc, beforeId === undefined ? { limit } : { beforeId, limit });
    return { messages: page.messages.map((view) => this.#toClient(view)), hasMore: page.hasMore };
  }

  getMessage(id: string): ClientMessage | null {
    const view = getMessage(this.doc, id);
    return view ? this.#toClient(view) : null;
  }

  lastMessage(): ClientMessage | null {
    const view = lastMessage(this.doc);
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
    return this.#d.replica.refusal;
  }

  /**
   * Sends the held changes again: for a refusal that someone else can fix (`document_too_large`:
   * an owner deleted old messages). Refused again, they are held again with the new refusal.
   */
  resend(): void {
    this.#d.replica.resend();
    this.#d.connection.holdWrites(false);
  }

  messageState(id: string): MessageState | null {
    return this.#d.replica.messageState(id);
  }

  /**
   * Sends a message. It is readable at once (before the promise settles); the promise resolves
   * with it once it is stored on the device, and rejects with a ClientError for bad input or a
   * storage failure (`storage_full`). Delivery follows as its `state`.
   */
  async send(input: SendInput): Promise<ClientMessage> {
    const { result, stored } = this.#write((actor) =>
      createMessage(this.doc, actor, {
        content: input.content,
        now: this.#d.now(),
        ...(input.type === undefined ? {} : { type: input.type }),
        ...(input.meta === undefined ? {} : { meta: input.meta }),
        ...(input.id === undefined ? {} : { id: input.id }),
      }),
    );
    await stored;
    const message = this.getMessage(result.id);
    if (!message) throw new ClientError('not_found', `message ${result.id} vanished`);
    return message;
  }

  async edit(id: string, changes: { content?: string; meta?: JsonObject }): Promise<void> {
    await this.#write((actor) => editMessage(this.doc, actor, { id, now: this.#d.now(), ...changes })).stored;
  }

  async delete(id: string): Promise<void> {
    await this.#write((actor) => deleteMessage(this.doc, actor, { id, now: this.#d.now() })).stored;
  }

  async react(messageId: string, reaction: string): Promise<void> {
    await this.#write((actor) => addReaction(this.doc, actor, { messageId, reaction, now: this.#d.now() })).stored;
  }

  async unreact(messageId: string, reaction: string): Promise<void> {
    await this.#write((actor) => removeReaction(this.doc, actor, { messageId, reaction })).stored;
  }

  /** Moves my read position forward to `messageId` (never backwards: then `moved` is false). */
  async markRead(messageId: string): Promise<{ moved: boolean }> {
    const { result, stored } = this.#write((actor) => markRead(this.doc, actor, messageId));
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

  unreadCount(): number {
    return unreadCount(this.doc, this.#d.user.id);
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
    if (this.#closed) return;
    if (this.#typingTimer) clearTimeout(this.#typingTimer);
    else this.#d.awareness.setLocalStateField('typing', true);
    this.#typingTimer = setTimeout(() => this.stopTyping(), this.#d.typingTimeoutMs);
  }

  stopTyping(): void {
    if (this.#typingTimer) clearTimeout(this.#typingTimer);
    this.#typingTimer = null;
    if (!this.#closed) this.#d.awareness.setLocalStateField('typing', false);
  }

  /** Other people typing in this room now. */
  typingUsers(): TypingUser[] {
    const users = new Map<string, TypingUser>();
    for (const [clientId, raw] of this.#d.awareness.getStates()) {
      if (clientId === this.#d.awareness.clientID) continue;
      const state = PeerStateSchema.safeParse(raw);
      if (state.success && state.data.typing === true && state.data.user.id !== this.#d.user.id) users.set(state.data.user.id, state.data.user);
    }
    return [...users.values()];
  }

  /** Presence of the room's members: live from the server while connected, else the cached one. */
  presence(): UserPresence[] {
    return [...this.#presence.values()];
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
    await this.#d.onClose();
  }

  #actor(): Actor {
    const role: ChatMemberRole = this.#members.find((m) => m.user_id === this.#d.user.id)?.role ?? 'member';
    return { userId: this.#d.user.id, role };
  }

  #write<T extends { ok: true } | Failure<RoomDocErrorCode>>(op: (actor: Actor) => T): { result: Extract<T, { ok: true }>; stored: Promise<void> } {
    if (this.#closed) throw new ClientError('closed', 'the room is closed');
    const { result, stored } = this.#d.replica.write(() => op(this.#actor()));
    if (!result.ok) throw new ClientError(result.code, result.message);
    return { result: result as Extract<T, { ok: true }>, stored };
  }

  #toClient(view: MessageView): ClientMessage {
    const message = toChatMessage(view, this.id, (userId) => this.#nameOf(userId));
    return { ...message, state: this.#d.replica.messageState(view.id) ?? { state: 'sent' } };
  }

  #nameOf(userId: string): string | null {
    if (userId === this.#d.user.id) return this.#d.user.name;
    return this.#members.find((m) => m.user_id === userId)?.user?.name ?? null;
  }

  #onAwareness(): void {
    let presenceChanged = false;
    for (const raw of this.#d.awareness.getStates().values()) {
      const server = ServerPresenceStateSchema.safeParse(raw);
      if (!server.success) continue;
      for (const p of Object.values(server.data.presence)) this.#presence.set(p.user_id, p);
      presenceChanged = true;
    }
    if (presenceChanged) this.#events.emit('presence', this.presence());
    this.#events.emit('typing', this.typingUsers());
  }
}
