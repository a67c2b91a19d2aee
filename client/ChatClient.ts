/*
 * Over 350 lines for a reason: this is the SDK's documented public facade (about 30 methods, each
 * with its JSDoc); each method is a few lines delegating to the subsystems it wires.
 */
import type { ChatRoom as ChatRoomModel, ChatRoomCreate } from '../shared/models/chatRoom.ts';
import type { ChatMember, ChatMemberRole } from '../shared/models/chatMember.ts';
import type { DevLoginResponse, User } from '../shared/models/user.ts';
import type { UserPresence } from '../shared/models/userPresence.ts';
import type { ParleyNotification } from '../shared/models/notification.ts';
import { tabChannelName } from '../shared/protocol/tabMessages.ts';
import { ServerClock } from './api/ServerClock.ts';
import { ApiError, RestClient } from './api/RestClient.ts';
import { AttachmentTransfer } from './attachments/AttachmentTransfer.ts';
import { UploadQueue } from './attachments/UploadQueue.ts';
import type { Attachment } from '../shared/models/attachment.ts';
import { ClientError } from './errors/ClientError.ts';
import { Emitter } from './events/Emitter.ts';
import { ClientIdentity } from './identity/ClientIdentity.ts';
import { ClientIdLease } from './identity/ClientIdLease.ts';
import { defaultClientIdLocks } from './identity/ClientIdLocks.ts';
import { tokenUser } from './identity/tokenClaims.ts';
import type { ChatRoom, ClientMessage, SendInput } from './room/ChatRoom.ts';
import { toClientMessage } from './room/toClientMessage.ts';
import { OpenRooms } from './rooms/OpenRooms.ts';
import { RoomList, type RoomSummary } from './rooms/RoomList.ts';
import type { ChatClientOptions } from './ChatClientOptions.ts';
import { DexieLocalStore } from './store/DexieLocalStore.ts';
import type { LocalStore } from './store/LocalStore.ts';
import type { RoomRow } from './store/storedRecords.ts';
import { BackgroundSync } from './sync/BackgroundSync.ts';
import { ConnectionStatus } from './sync/ConnectionStatus.ts';
import type { ConnectionState } from './sync/RoomConnection.ts';
import { RoomSyncFactory } from './sync/RoomSyncFactory.ts';
import { defaultWebSocket } from './sync/WebSocketLike.ts';
import { pacerFor } from './sync/InboundPacer.ts';
import { SyncSocket, socketPerDocument } from './sync/SyncSocket.ts';
import { FeedConnection } from './feed/FeedConnection.ts';
import { MessageSearch, type SearchOptions } from './search/MessageSearch.ts';
import type { SearchResults } from './search/SearchResults.ts';
import type { FeedChanges } from '../shared/models/userFeed.ts';
import { z } from 'zod';
import { RoomIdSchema } from '../shared/ids.ts';

export type { RoomSummary } from './rooms/RoomList.ts';
export type { ChatClientOptions } from './ChatClientOptions.ts';

/** The `details` of a 409 on a direct room: the room that already exists for the pair. */
const ExistingRoomSchema = z.object({ room_id: RoomIdSchema });

export interface ChatClientEvents {
  [name: string]: unknown;
  connection: ConnectionState;
  rooms: readonly RoomSummary[];
  /** Storage failures (quota), refused updates, malformed data, token failures. */
  error: ClientError;
  /** The client id was retired (the server held more under it than this device) and replaced. */
  clientId: number;
  /** Presence of people the user shares a room with changed (online, last seen, status), from the user feed. */
  presence: readonly UserPresence[];
  /** The user lost a room (removed by someone, or it is gone); it has left the list. */
  roomRemoved: { readonly roomId: string; readonly reason: 'removed' | 'not_found' };
  /**
   * A new message mentions the user, or came in one of their direct rooms (not their own, not in a
   * room they muted), pushed live by the server to every connected device (docs/notifications.md).
   * What to show, and whether, is the app's choice (the web app: a system notification while hidden).
   */
  notification: ParleyNotification;
}

/**
 * The Parley client SDK: a user's rooms, stored on the device and synced with the server.
 * `ChatClient.open()` works offline (from the stored identity and data); everything syncs when
 * the server becomes reachable. A facade: the room list (rooms/RoomList), the rooms open in the
 * foreground (rooms/OpenRooms), background sync (sync/BackgroundSync), the connection status
 * (sync/ConnectionStatus) and the device's client id (identity/ClientIdentity) do the work.
 */
export class ChatClient {
  readonly user: User;
  readonly store: LocalStore;
  readonly #ownsStore: boolean;
  readonly #rest: RestClient;
  readonly #events = new Emitter<ChatClientEvents>();
  readonly #identity: ClientIdentity;
  readonly #status: ConnectionStatus;
  /** The device's one sync socket (null with `multiplex: false`: a socket per room). */
  readonly #sync: SyncSocket | null;
  /** The user feed on that socket (null without it: the room list is then fetched, not pushed). */
  readonly #feed: FeedConnection | null;
  readonly #list: RoomList;
  readonly #open: OpenRooms;
  readonly #background: BackgroundSync;
  readonly #transfer: AttachmentTransfer;
  #uploads: UploadQueue | null = null;
  readonly #search: MessageSearch;
  /** The rooms of the list as last emitted: one that leaves it leaves the search index too. */
  #listed: ReadonlySet<string>;
  #persisted: boolean | null = null;
  #closed = false;

  private constructor(opts: ChatClientOptions, user: User, store: LocalStore, ownsStore: boolean, lease: ClientIdLease, rows: RoomRow[], dbName: string) {
    this.user = user;
    this.store = store;
    this.#ownsStore = ownsStore;
    // Ids and timestamps are minted on the server's clock as the REST answers tell it, unless the
    // host gives its own clock.
    const serverClock = opts.now ? null : new ServerClock(opts.deviceClock);
    this.#rest = new RestClient(opts.serverUrl, opts.getToken, opts.fetch, serverClock);
    this.#transfer = new AttachmentTransfer(opts.serverUrl, opts.getToken, opts.fetch ?? globalThis.fetch.bind(globalThis), opts.sendUpload);
    const onError = (error: ClientError): void => this.#events.emit('error', error);
    const channelName = tabChannelName(dbName);
    this.#status = new ConnectionStatus((state) => this.#events.emit('connection', state));
    this.#identity = new ClientIdentity(
      lease,
      async () => [...this.#background.replicas(), ...(await this.#open.replicas())],
      (clientId) => this.#events.emit('clientId', clientId),
    );
    this.#search = new MessageSearch({
      store,
      rest: this.#rest,
      rooms: () => new Map(this.rooms().map((s) => [s.room.id, s.room.name])),
    });
    this.#listed = new Set(rows.map((row) => row.id));
    const WebSocket = opts.WebSocket ?? defaultWebSocket();
    this.#sync = opts.multiplex === false ? null : new SyncSocket({ serverUrl: opts.serverUrl, WebSocket });
    const factory = new RoomSyncFactory({
      store,
      identity: this.#identity,
      status: this.#status,
      getToken: opts.getToken,
      openSocket: this.#sync ? this.#sync.opener : socketPerDocument(opts.serverUrl, WebSocket),
      ...(opts.reconnect ? { reconnect: opts.reconnect } : {}),
      ...(opts.maxFrameBytes === undefined ? {} : { maxFrameBytes: opts.maxFrameBytes }),
      ...(opts.compaction ? { compaction: opts.compaction } : {}),
      channelName,
      onError,
      ...pacerFor(opts.pacedHistory),
      loaded: (replica) => {
        this.#search.follow(replica.roomId, replica.doc);
        // Messages with files keep their bytes on the device until a replica reads them as sent.
        this.#uploads?.follow(replica);
      },
    });
    const { enabled, timeoutMs, ...schedule } = opts.background ?? {};
    this.#background = new BackgroundSync(
      {
        ...schedule,
        ...(timeoutMs === undefined ? {} : { timeoutMs }),
        factory,
        rooms: () => this.rooms().map((s) => s.room.id).filter((id) => !this.#open.has(id)),
        isOpen: (roomId) => this.#closed || this.#open.has(roomId),
        synced: (roomId, replica) => this.#list.updateSummary(roomId, replica),
        // Only a picture for a faster first paint: a failed write leaves the older one.
        recentPage: (roomId, messages) => store.putRecentPage({ roomId, messages: [...messages] }).catch(() => undefined),
        reachable: (reachable) => this.#status.setReachable(reachable),
        onError,
      },
      enabled !== false,
    );
    this.#open = new OpenRooms({
      store,
      rest: this.#rest,
      user,
      factory,
      background: this.#background,
      typingTimeoutMs: opts.typingTimeoutMs ?? 5_000,
      now: opts.now ?? serverClock?.now ?? Date.now,
      changed: (roomId) => this.#list.scheduleSummary(roomId),
      membersLoaded: (members) => this.#list.learnNames(members),
      onError,
    });
    this.#list = new RoomList(
      {
        store,
        rest: this.#rest,
        userId: user.id,
        channelName,
        openReplica: (roomId) => this.#open.replica(roomId),
        syncingInBackground: (roomId) => this.#background.has(roomId),
        clientId: () => this.#identity.clientId,
        onChange: (rooms) => {
          this.#followMembership(rooms);
          this.#events.emit('rooms', rooms);
        },
        onError,
      },
      rows,
    );
    this.#feed = this.#sync
      ? new FeedConnection({
          store,
          openSocket: this.#sync.opener,
          getToken: opts.getToken,
          ...(opts.reconnect ? { backoff: opts.reconnect } : {}),
          apply: (changes) => this.#applyFeed(changes),
          reached: () => this.#status.setReachable(true),
          onError,
        })
      : null;
  }

  /** Opens the client: the local database, a client id, the cached room list; then syncs in the background. */
  static async open(opts: ChatClientOptions): Promise<ChatClient> {
    let token: string;
    try {
      token = await opts.getToken({ renew: false });
    } catch (error) {
      throw new ClientError('unauthorized', `the token provider failed: ${String(error)}`, error);
    }
    const user = tokenUser(token);
    const dbName = opts.dbName ?? `parley:${user.id}`;
    const store =
      opts.store ??
      (await DexieLocalStore.open({
        name: dbName,
        ...(opts.indexedDB ? { indexedDB: opts.indexedDB } : {}),
        ...(opts.IDBKeyRange ? { IDBKeyRange: opts.IDBKeyRange } : {}),
      }));
    const stored = await store.getIdentity();
    if (stored && stored.user.id !== user.id) {
      throw new ClientError('unauthorized', `this database belongs to user ${stored.user.id}, not ${user.id}`);
    }
    await store.putIdentity({ key: 'identity', user, serverUrl: opts.serverUrl });
    const lease = await ClientIdLease.acquire(store, opts.locks ?? defaultClientIdLocks(), dbName);
    const rows = await store.getRooms();
    const client = new ChatClient(opts, user, store, opts.store === undefined, lease, rows, dbName);
    client.#uploads = await client.#openUploads(opts);
    // Messages with files written in an earlier session and not acknowledged then: loading their
    // room settles them (the server may hold them already), and syncing it sends them.
    for (const roomId of client.#uploads.awaitingServer()) void client.#background.syncOnce(roomId);
    if (opts.requestPersistentStorage !== false) void client.#requestPersistence();
    client.#feed?.connect();
    // Off the start-up path: open() has answered before the first stored room is read.
    void client.#search.start(client.rooms().map((s) => s.room.id));
    void client.refreshRooms().catch(() => {
      // Offline start: the cached list stands; background sync retries on its own schedule.
    });
    return client;
  }

  /**
   * Signs in by name on a server that has dev login on (`PARLEY_DEV_LOGIN=1`); rejects with an
   * ApiError `dev_login_disabled` otherwise. Returns the token to pass to open() via getToken.
   */
  static devLogin(serverUrl: string, name: string, opts: { readonly fetch?: typeof fetch } = {}): Promise<DevLoginResponse> {
    return RestClient.devLogin(serverUrl, name, opts.fetch);
  }

  /** The Yjs client id this client writes with (reused across reloads, see docs/client.md). */
  get clientId(): number {
    return this.#identity.clientId;
  }

  get connectionState(): ConnectionState {
    return this.#status.state;
  }

  /** Whether the browser granted persistent storage (null: not asked or not supported). */
  get storagePersisted(): boolean | null {
    return this.#persisted;
  }

  on<K extends keyof ChatClientEvents>(name: K, listener: (payload: ChatClientEvents[K]) => void): () => void {
    return this.#events.on(name, listener);
  }

  /** The user's rooms as last known (cached: available offline), newest activity first. */
  rooms(): RoomSummary[] {
    return this.#list.rooms();
  }

  /** Calls `listener` with the room list now and on every change; returns the unsubscribe function. */
  watchRooms(listener: (rooms: readonly RoomSummary[]) => void): () => void {
    listener(this.rooms());
    return this.on('rooms', listener);
  }

  /** Fetches the room list from the server, caches it, and syncs the rooms in the background. */
  async refreshRooms(): Promise<RoomSummary[]> {
    this.#assertOpen();
    try {
      await this.#list.refresh();
      this.#status.setReachable(true);
    } catch (error) {
      if (error instanceof ClientError && error.code === 'network') this.#status.setReachable(false);
      throw error;
    }
    for (const id of this.#open.ids()) this.#list.scheduleSummary(id);
    void this.#background.kick();
    return this.rooms();
  }

  /**
   * Creates a room. A direct room with someone I already have one with is not an error: the
   * existing room is answered (the server's 409 names it).
   */
  async createRoom(input: Partial<ChatRoomCreate> & Pick<ChatRoomCreate, 'type'>): Promise<ChatRoomModel> {
    this.#assertOpen();
    let room: ChatRoomModel;
    try {
      room = await this.#rest.createRoom(input);
    } catch (error) {
      const existing = input.type === 'direct' && error instanceof ApiError && error.status === 409 ? ExistingRoomSchema.safeParse(error.details) : null;
      if (!existing?.success) throw error;
      room = await this.#rest.room(existing.data.room_id);
    }
    await this.refreshRooms().catch(() => undefined);
    return room;
  }

  /**
   * A segmented room's newest messages as this device last saw them (its recent page, see
   * docs/client.md), read without loading the room: a first paint while openRoom() loads it.
   * Null when the device holds none (a room not segmented, or never synced here). While the room
   * syncs in the background, waits for the page the server sends with its head.
   */
  async recentMessages(roomId: string): Promise<ClientMessage[] | null> {
    this.#assertOpen();
    // A background sync of the room under way keeps the page the server sends with the head first.
    await this.#background.recentKept(roomId);
    const [row, members] = await Promise.all([this.store.getRecentPage(roomId), this.store.getMembers(roomId)]);
    if (!row || row.messages.length === 0) return null;
    const cached = members?.members ?? [];
    return row.messages.map((view) => toClientMessage(view, roomId, this.user, cached, { state: 'sent' }));
  }

  /**
   * Messages with files (docs/client.md, "Attachments"): `uploads.send(roomId, {files, content})`
   * keeps the message and its files on the device, uploads the files when the server is
   * reachable, then writes the message; `uploads.pending(roomId)` lists what waits, with progress.
   */
  get uploads(): UploadQueue {
    this.#assertOpen();
    if (!this.#uploads) throw new ClientError('closed', 'the client is not open yet');
    return this.#uploads;
  }

  /** The bytes of an attachment, or of its thumbnail, fetched with the user's token (for an object URL). */
  downloadAttachment(attachment: Pick<Attachment, 'url' | 'thumbnail_url'>, opts: { readonly thumbnail?: boolean } = {}): Promise<Blob> {
    this.#assertOpen();
    return this.#transfer.download(attachment, opts);
  }

  /** Opens a room: readable at once from the device, then kept in sync until closed. */
  openRoom(roomId: string): Promise<ChatRoom> {
    this.#assertOpen();
    return this.#open.open(roomId);
  }

  /**
   * Drops everything this device holds of a room, including changes the server refused or never
   * got, so that the room can sync again after a refusal (`ChatRoom.refusal`). The room is closed
   * if open; the next openRoom() loads it from the server. The server then holds more under this
   * device's client id than the device does, so the client takes a fresh id (see docs/client.md).
   */
  async discardLocalChanges(roomId: string): Promise<void> {
    this.#assertOpen();
    await this.#open.close(roomId);
    await this.#background.settled(roomId);
    const row = this.#list.row(roomId);
    this.#uploads?.forgetRoom(roomId);
    await this.store.deleteRoom(roomId);
    // The cached room list entry stays; only its document and sync state go.
    if (row) await this.store.putRoom({ ...row, unreadCount: 0, mentionCount: 0, lastMessage: null });
    await this.#search.rescanRoom(roomId);
  }

  /** A room's active members from the server, cached for offline use; the cache when offline. */
  async members(roomId: string): Promise<ChatMember[]> {
    this.#assertOpen();
    try {
      const members = await this.#rest.members(roomId);
      await this.store.putMembers({ roomId, members });
      return members;
    } catch (error) {
      if (error instanceof ClientError && error.code === 'network') return [...((await this.store.getMembers(roomId))?.members ?? [])];
      throw error;
    }
  }

  /** Users whose name starts with `prefix` (at most 20), to add to rooms. */
  /** A person's display name as the device learnt it (member lists, messages), or null: for search results and previews. */
  userName(userId: string): string | null {
    return userId === this.user.id ? this.user.name : this.#list.nameOf(userId);
  }

  searchUsers(prefix: string): Promise<User[]> {
    this.#assertOpen();
    return this.#rest.searchUsers(prefix);
  }

  /** Adds (or re-adds) a member; owners and admins only (ApiError `forbidden` otherwise). */
  async addMember(roomId: string, userId: string, role: ChatMemberRole = 'member'): Promise<ChatMember> {
    this.#assertOpen();
    const member = await this.#rest.addMember(roomId, userId, role);
    await this.#afterMembership(roomId);
    return member;
  }

  /** Changes a member's role; owners and admins only, within the server's rules (server/http/memberRules.ts). */
  async setMemberRole(roomId: string, userId: string, role: ChatMemberRole): Promise<ChatMember> {
    this.#assertOpen();
    const member = await this.#rest.setMemberRole(roomId, userId, role);
    await this.#afterMembership(roomId);
    return member;
  }

  /** Removes a member (the history keeps their messages); owners and admins only. */
  async removeMember(roomId: string, userId: string): Promise<void> {
    this.#assertOpen();
    await this.#rest.removeMember(roomId, userId);
    await this.#afterMembership(roomId);
  }

  /** Leaves a room: the server drops my membership, and the device drops the room and its data. */
  async leaveRoom(roomId: string): Promise<void> {
    this.#assertOpen();
    await this.#rest.leaveRoom(roomId);
    await this.#open.close(roomId);
    await this.#background.settled(roomId);
    this.#uploads?.forgetRoom(roomId);
    await this.store.deleteRoom(roomId);
    this.#list.remove(roomId);
    await this.refreshRooms().catch(() => undefined);
  }

  /**
   * Mutes or unmutes a room for me, on all my devices (PUT /api/rooms/:roomId/mute): no
   * notifications from it, here or through the webhook. The list follows at once; my other
   * devices through the user feed.
   */
  async setRoomMuted(roomId: string, muted: boolean): Promise<void> {
    this.#assertOpen();
    const room = await this.#rest.setRoomMuted(roomId, muted);
    await this.#list.setMuted(roomId, room.muted === true);
  }

  /** Sets my status text (null clears it). */
  setStatus(status: string | null): Promise<UserPresence> {
    this.#assertOpen();
    return this.#rest.setStatus(status);
  }

  /** Presence of users from the server, cached for offline use; the cache when offline. */
  async presence(userIds: readonly string[]): Promise<UserPresence[]> {
    try {
      const presence = await this.#rest.presence(userIds);
      await this.store.putPresence(presence);
      return presence;
    } catch (error) {
      if (error instanceof ClientError && error.code === 'network') return this.store.getPresence(userIds);
      throw error;
    }
  }

  /**
   * Searches the messages of the user's rooms (docs/search.md, "Search on the device"): the
   * device's own index (every message it holds, pending ones included, searchable offline), merged
   * by message id with the server's matches (GET /api/search) when the server answers: the
   * server's ranking first, then what only the device found. Offline, or when the server does not
   * answer within 5 s, the device's hits alone come with `offline: true`; it never rejects for lack
   * of network. Syntax: words (all must match), "phrases", `prefix*` (docs/search.md). Rejects
   * with ClientError `invalid_payload` for a text over 200 characters, a bad `limit` or an
   * unknown cursor, and with the signal's reason when `signal` aborts.
   */
  search(query: string, opts: SearchOptions = {}): Promise<SearchResults> {
    this.#assertOpen();
    return this.#search.search(query, opts);
  }

  /** Resolves once the device's search index holds everything the device stored at start-up and every change since (tests; a "still indexing" hint). */
  searchIndexed(): Promise<void> {
    return this.#search.idle();
  }

  /**
   * The network is back (the browser's `online` event): reopen every room socket at once instead
   * of waiting out the backoff or the silence timeout, then refresh the room list and sync.
   */
  async reconnectNow(): Promise<void> {
    this.#assertOpen();
    // The shared socket may be dead without knowing it after a network change: a fresh one.
    this.#sync?.reconnect();
    this.#feed?.reconnectNow();
    await this.#open.reconnectNow();
    await this.refreshRooms().catch(() => undefined);
  }

  /** Runs a background sweep now and resolves when it is done (also used by tests). */
  async syncInBackground(): Promise<void> {
    await this.#background.kick();
  }

  /**
   * Syncs one room once: connect, exchange what each side lacks, wait until the server
   * acknowledged everything of ours, disconnect; then update its summary. Never rejects.
   */
  syncRoomOnce(roomId: string): Promise<void> {
    return this.#background.syncOnce(roomId);
  }

  /** Closes every room and connection, stops background sync, releases the client id. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#uploads?.close();
    await this.#feed?.close();
    this.#list.close();
    await this.#background.stop();
    await this.#open.closeAll();
    await this.#search.close();
    this.#sync?.close();
    this.#status.close();
    this.#identity.release();
    if (this.#ownsStore) await this.store.close();
    this.#events.clear();
  }

  /** One frame of the user feed: the list, the member lists, unread counts to recompute, rooms lost. */
  /**
   * Signs this device out: closes the client and deletes everything it stored for the user (the
   * rooms, the messages not yet sent, the client id), so the next person on the device finds
   * nothing of theirs. A store passed in by the app is emptied too.
   */
  async signOut(): Promise<void> {
    await this.close();
    await this.store.destroy();
  }

  async #applyFeed(changes: FeedChanges): Promise<void> {
    const { removed, newMessages } = await this.#list.applyFeed(changes);
    for (const { room_id: roomId, members: changed, complete } of changes.members) {
      this.#list.learnNames(changed);
      const open = await this.#open.get(roomId);
      const held = complete ? [] : open && !open.closed ? open.members() : ((await this.store.getMembers(roomId))?.members ?? []);
      const members = mergeMembers(held, changed);
      await this.store.putMembers({ roomId, members });
      if (open && !open.closed) open.setMembers(members);
    }
    // An unopened room with a newer message: its document (and unread count) follows in the background.
    for (const roomId of newMessages) if (!this.#open.has(roomId)) void this.#background.syncOnce(roomId);
    for (const { room_id: roomId, reason } of removed) this.#events.emit('roomRemoved', { roomId, reason });
    if (changes.presence.length > 0) {
      await this.store.putPresence(changes.presence);
      this.#events.emit('presence', changes.presence);
    }
    for (const notification of changes.notifications ?? []) if (notification.user_id === this.user.id) this.#events.emit('notification', notification);
  }

  async #openUploads(opts: ChatClientOptions): Promise<UploadQueue> {
    const queue = await UploadQueue.open({
      store: this.store,
      transfer: this.#transfer,
      now: opts.now ?? Date.now,
      ...(opts.reconnect ? { backoff: opts.reconnect } : {}),
      onError: (error) => this.#events.emit('error', error),
      commit: async (row, attachments, rewrite) => {
        const { messageId: id, type, content, parentId, showInChannel, quotedMessageId, mentionedUsers } = row;
        if (rewrite) {
          const { opened } = await this.#open.withRoom(row.roomId, (room) => room.reattach(id, attachments));
          if (opened) void this.#background.syncOnce(row.roomId);
          return;
        }
        const input: SendInput = {
          id,
          type,
          content,
          attachments,
          ...(parentId === undefined ? {} : { parentId }),
          ...(showInChannel === undefined ? {} : { showInChannel }),
          ...(quotedMessageId === undefined ? {} : { quotedMessageId }),
          ...(mentionedUsers === undefined ? {} : { mentionedUsers }),
        };
        const { opened } = await this.#open.withRoom(row.roomId, (room) => room.send(input));
        // Opened just for this: closed again, so the message reaches the server in one background sync.
        if (opened) void this.#background.syncOnce(row.roomId);
      },
    });
    this.on('connection', (state) => {
      if (state === 'online') queue.wake();
    });
    return queue;
  }

  /** A room gone from the list (left, removed, deleted) leaves the search index: no hit from it, old or new. */
  #followMembership(rooms: readonly RoomSummary[]): void {
    const listed = new Set(rooms.map((s) => s.room.id));
    for (const roomId of this.#listed) if (!listed.has(roomId)) this.#search.dropRoom(roomId);
    this.#listed = listed;
  }

  async #afterMembership(roomId: string): Promise<void> {
    const room = await this.#open.get(roomId);
    if (room && !room.closed) await this.#open.refreshMembers(room);
    await this.refreshRooms().catch(() => undefined);
  }

  async #requestPersistence(): Promise<void> {
    const storage = (globalThis as { navigator?: { storage?: { persist?: () => Promise<boolean> } } }).navigator?.storage;
    if (!storage?.persist) return;
    try {
      this.#persisted = await storage.persist();
    } catch {
      this.#persisted = false;
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new ClientError('closed', 'the client is closed');
  }
}

/** The active members after a change: each changed member replaces its entry; an inactive one leaves. */
function mergeMembers(held: readonly ChatMember[], changed: readonly ChatMember[]): ChatMember[] {
  const byUser = new Map(held.map((m) => [m.user_id, m]));
  for (const member of changed) byUser.set(member.user_id, member);
  return [...byUser.values()].filter((m) => m.is_active);
}

