import { SegmentIndex } from '../../shared/roomDoc/segments.ts';
import type { ChatMessage } from '../../shared/models/chatMessage.ts';
import { ChatMessageSchema } from '../../shared/models/chatMessage.ts';
import { roomActivityMs, type ChatRoom as ChatRoomModel } from '../../shared/models/chatRoom.ts';
import type { FeedChanges, FeedRemoval } from '../../shared/models/userFeed.ts';
import { TabMessageSchema } from '../../shared/protocol/tabMessages.ts';
import { lastMessage, unreadCount } from '../../shared/roomDoc/queries.ts';
import { mentionCount } from '../../shared/roomDoc/mentionCounts.ts';
import { toChatMessage } from '../../shared/roomDoc/toChatMessage.ts';
import type { RestClient } from '../api/RestClient.ts';
import { ClientError } from '../errors/ClientError.ts';
import { RoomReplica } from '../room/RoomReplica.ts';
import type { LocalStore } from '../store/LocalStore.ts';
import type { RoomRow } from '../store/storedRecords.ts';

export interface RoomSummary {
  readonly room: ChatRoomModel;
  readonly unreadCount: number;
  /** Unread messages that mention the user (`mentioned_users`). */
  readonly mentionCount: number;
  readonly lastMessage: ChatMessage | null;
  /** The user muted the room (on any of their devices): no notifications, left out of unread totals. */
  readonly muted: boolean;
}

export interface RoomListDeps {
  readonly store: LocalStore;
  readonly rest: RestClient;
  readonly userId: string;
  /** The BroadcastChannel shared by the tabs on this database. */
  readonly channelName: string;
  /** The replica of a room open in the foreground, null when it is not open. */
  readonly openReplica: (roomId: string) => Promise<RoomReplica> | null;
  /** Whether a room is being synced in the background (its summary follows when that ends). */
  readonly syncingInBackground: (roomId: string) => boolean;
  /** The client id replicas loaded only to read a summary are loaded under. */
  readonly clientId: () => number;
  readonly onChange: (rooms: readonly RoomSummary[]) => void;
  readonly onError: (error: ClientError) => void;
}

const SUMMARY_DELAY_MS = 25;
/** Another tab stored something in a room this tab has not opened: refresh its summary after this long. */
const TAB_SUMMARY_DELAY_MS = 250;

/** When a room last saw activity: its newest message here or on the server, else its creation. */
function activityOf(row: RoomRow): number {
  const local = row.lastMessage ? Date.parse(row.lastMessage.created_at) : 0;
  return Math.max(local, roomActivityMs(row.room));
}

const storageError = (error: unknown): ClientError => (error instanceof ClientError ? error : new ClientError('storage_failed', String(error), error));

/**
 * The user's rooms as the app lists them: cached on the device (readable offline), refreshed
 * from the server, each with its unread count and last message computed from the room's
 * document, and following what other tabs on the same database store.
 */
export class RoomList {
  readonly #d: RoomListDeps;
  #rows: Map<string, RoomRow>;
  readonly #summaryTimers = new Map<string, ReturnType<typeof setTimeout>>();
  readonly #tabTimers = new Map<string, ReturnType<typeof setTimeout>>();
  /** Display names learnt from the server (last messages, member lists): previews say who wrote. */
  readonly #names = new Map<string, string>();
  #tabChannel: BroadcastChannel | null = null;
  #closed = false;
  /** The counts the server last sent per room (REST or the feed). */
  readonly #serverCounts = new Map<string, { readonly unreadCount: number; readonly mentionCount: number }>();
  /** Rooms seen segmented here: an open one's head holds no messages, so its counts are the server's too. */
  readonly #segmented = new Set<string>();

  constructor(deps: RoomListDeps, rows: readonly RoomRow[]) {
    this.#d = deps;
    this.#rows = new Map(rows.map((row) => [row.id, row]));
    for (const row of rows) this.#learnFrom(row.lastMessage);
    this.#followOtherTabs();
  }

  /** Names of people (from a member list), for previews of messages computed on the device. */
  learnNames(members: readonly { readonly user_id: string; readonly user: { readonly name: string } | null }[]): void {
    for (const member of members) if (member.user) this.#names.set(member.user_id, member.user.name);
  }

  /** A person's display name as learnt so far, or null. */
  nameOf(userId: string): string | null {
    return this.#names.get(userId) ?? null;
  }

  #learnFrom(message: ChatMessage | null): void {
    if (message?.sender_id && message.sender_name) this.#names.set(message.sender_id, message.sender_name);
  }

  /** Newest activity first (the newest message known here or to the server), then the server's order. */
  rooms(): RoomSummary[] {
    return [...this.#rows.values()]
      .map((row) => ({ row, at: activityOf(row) }))
      .sort((a, b) => b.at - a.at || a.row.order - b.row.order)
      .map(({ row }) => ({ room: row.room, unreadCount: row.unreadCount, mentionCount: row.mentionCount, lastMessage: row.lastMessage, muted: row.room.muted === true }));
  }

  /**
   * Applies a frame of the user feed: rooms added or changed (as the server has them now), rooms
   * lost; with `reset`, the frame is the whole list. Stored before it resolves. Unread counts
   * come from the server (per member), except for rooms open here. Answers which rooms were lost,
   * and which have a newer message from someone else with no count from the server (an older
   * server: the count needs the room's document).
   */
  async applyFeed(changes: FeedChanges): Promise<{ removed: readonly FeedRemoval[]; newMessages: readonly string[] }> {
    const removed: FeedRemoval[] = [...changes.removed];
    if (changes.reset) {
      const listed = new Set(changes.rooms.map((room) => room.id));
      for (const id of this.#rows.keys()) if (!listed.has(id)) removed.push({ room_id: id, reason: 'removed' });
    }
    const newMessages: string[] = [];
    const changed: string[] = [];
    for (const room of changes.rooms) {
      const known = this.#rows.get(room.id);
      const parsed = ChatMessageSchema.safeParse(room.last_message);
      const fromServer = parsed.success ? parsed.data : null;
      this.#learnFrom(fromServer);
      const newer = fromServer !== null && (known?.lastMessage == null || Date.parse(fromServer.created_at) > Date.parse(known.lastMessage.created_at));
      if (newer && room.unread_count === undefined && fromServer.sender_id !== this.#d.userId) newMessages.push(room.id);
      const row: RoomRow = { id: room.id, room, order: known?.order ?? 0, ...this.#counts(room, known), lastMessage: newer ? fromServer : (known?.lastMessage ?? null) };
      this.#rows.set(room.id, row);
      changed.push(room.id);
    }
    for (const removal of removed) this.#rows.delete(removal.room_id);
    // Each row as it is when written: a summary computed meanwhile (an unread count) must not be overwritten.
    if (removed.length > 0) await this.#d.store.replaceRooms([...this.#rows.values()]);
    else
      for (const id of changed) {
        const row = this.#rows.get(id);
        if (row) await this.#d.store.putRoom(row);
      }
    this.#emit();
    return { removed, newMessages };
  }

  /** The cached row of a room, as the list holds it. */
  row(roomId: string): RoomRow | undefined {
    return this.#rows.get(roomId);
  }

  /** Fetches the list from the server and caches it; keeps what the device computed for known rooms. */
  async refresh(): Promise<void> {
    const rooms = await this.#d.rest.listRooms();
    const rows = rooms.map((room, order): RoomRow => {
      const known = this.#rows.get(room.id);
      const fallback = ChatMessageSchema.safeParse(room.last_message);
      if (fallback.success) this.#learnFrom(fallback.data);
      return {
        id: room.id,
        room,
        order,
        ...this.#counts(room, known),
        lastMessage: known?.lastMessage ?? (fallback.success ? fallback.data : null),
      };
    });
    this.#rows = new Map(rows.map((row) => [row.id, row]));
    await this.#d.store.replaceRooms(rows);
    this.#emit();
  }

  /** The user's mute of a room as the server answered setting it: stored, then listed (the feed brings it to the other devices). */
  async setMuted(roomId: string, muted: boolean): Promise<void> {
    const row = this.#rows.get(roomId);
    if (!row || this.#closed) return;
    const next: RoomRow = { ...row, room: { ...row.room, muted } };
    this.#rows.set(roomId, next);
    await this.#d.store.putRoom(next);
    this.#emit();
  }

  /** Forgets a room the user left (its stored data is the caller's to delete). */
  remove(roomId: string): void {
    this.#rows.delete(roomId);
    this.#emit();
  }

  /** The room's summary from its replica, now. */
  updateSummary(roomId: string, replica: RoomReplica): void {
    const row = this.#rows.get(roomId);
    if (!row || this.#closed) return;
    // A segmented room's own document is its head (no messages): its counts come from the server (REST, the feed).
    if (SegmentIndex.of(replica.doc).segmented) {
      this.#segmented.add(roomId);
      const server = this.#serverCounts.get(roomId);
      if (server && (server.unreadCount !== row.unreadCount || server.mentionCount !== row.mentionCount)) this.#put({ ...row, ...server });
      return;
    }
    const last = lastMessage(replica.doc);
    const next: RoomRow = {
      ...row,
      unreadCount: unreadCount(replica.doc, this.#d.userId),
      mentionCount: mentionCount(replica.doc, this.#d.userId),
      lastMessage: last ? toChatMessage(last, roomId, (id) => this.#names.get(id) ?? null) : row.lastMessage,
    };
    this.#put(next);
  }

  #put(next: RoomRow): void {
    this.#rows.set(next.id, next);
    this.#d.store.putRoom(next).catch((error: unknown) => this.#d.onError(storageError(error)));
    this.#emit();
  }

  /**
   * A room's counts as the server sent them (remembered), unless the room is open here and not
   * segmented: then its document, more current, counts them; else what the list had.
   */
  #counts(room: ChatRoomModel, known: RoomRow | undefined): { unreadCount: number; mentionCount: number } {
    const kept = { unreadCount: known?.unreadCount ?? 0, mentionCount: known?.mentionCount ?? 0 };
    const fromServer = { unreadCount: room.unread_count ?? kept.unreadCount, mentionCount: room.mention_count ?? kept.mentionCount };
    if (room.unread_count !== undefined || room.mention_count !== undefined) this.#serverCounts.set(room.id, fromServer);
    const countedHere = this.#d.openReplica(room.id) !== null && !this.#segmented.has(room.id);
    return countedHere ? kept : fromServer;
  }

  /** Recomputes the room's summary soon (once per burst of changes). */
  scheduleSummary(roomId: string): void {
    if (this.#summaryTimers.has(roomId) || this.#closed) return;
    this.#summaryTimers.set(
      roomId,
      setTimeout(() => {
        this.#summaryTimers.delete(roomId);
        const open = this.#d.openReplica(roomId);
        if (open) void open.then((replica) => this.updateSummary(roomId, replica));
        else if (!this.#d.syncingInBackground(roomId)) void this.#summaryFromStore(roomId);
      }, SUMMARY_DELAY_MS),
    );
  }

  close(): void {
    this.#closed = true;
    for (const timer of this.#summaryTimers.values()) clearTimeout(timer);
    for (const timer of this.#tabTimers.values()) clearTimeout(timer);
    this.#tabChannel?.close();
  }

  /**
   * Another tab of this user stored something in a room this tab has not opened (a message it
   * received, a read): the list here follows from the shared database, with no socket.
   */
  #followOtherTabs(): void {
    if (typeof BroadcastChannel === 'undefined') return;
    this.#tabChannel = new BroadcastChannel(this.#d.channelName);
    this.#tabChannel.onmessage = (event: MessageEvent<unknown>) => {
      const grew = TabMessageSchema.safeParse(event.data);
      const roomId = grew.success ? grew.data.roomId : null;
      if (roomId === null || !this.#rows.has(roomId) || this.#d.openReplica(roomId) || this.#tabTimers.has(roomId)) return;
      // Loading a room from the store costs more than reading an open one: once per burst.
      this.#tabTimers.set(
        roomId,
        setTimeout(() => {
          this.#tabTimers.delete(roomId);
          this.scheduleSummary(roomId);
        }, TAB_SUMMARY_DELAY_MS),
      );
    };
  }

  async #summaryFromStore(roomId: string): Promise<void> {
    try {
      const replica = await RoomReplica.load(this.#d.store, roomId, this.#d.clientId());
      this.updateSummary(roomId, replica);
      await replica.close();
    } catch (error) {
      this.#d.onError(storageError(error));
    }
  }

  #emit(): void {
    if (!this.#closed) this.#d.onChange(this.rooms());
  }
}
