import * as awarenessProtocol from 'y-protocols/awareness';
import type { ChatMessage } from '../shared/models/chatMessage.ts';
import { ChatMessageSchema } from '../shared/models/chatMessage.ts';
import { TabMessageSchema, tabChannelName } from '../shared/protocol/tabMessages.ts';
import type { ChatRoom as ChatRoomModel, ChatRoomCreate } from '../shared/models/chatRoom.ts';
import type { ChatMember, ChatMemberRole } from '../shared/models/chatMember.ts';
import type { DevLoginResponse, User } from '../shared/models/user.ts';
import type { UserPresence } from '../shared/models/userPresence.ts';
import { lastMessage, unreadCount } from '../shared/roomDoc/queries.ts';
import { toChatMessage } from '../shared/roomDoc/toChatMessage.ts';
import { RestClient } from './api/RestClient.ts';
import { ClientError } from './errors/ClientError.ts';
import { Emitter } from './events/Emitter.ts';
import { ClientIdLease } from './identity/ClientIdLease.ts';
import { defaultClientIdLocks, type ClientIdLocks } from './identity/ClientIdLocks.ts';
import { tokenUser } from './identity/tokenClaims.ts';
import { ChatRoom } from './room/ChatRoom.ts';
import { RoomReplica, type CompactionPolicy } from './room/RoomReplica.ts';
import { DexieLocalStore } from './store/DexieLocalStore.ts';
import type { LocalStore } from './store/LocalStore.ts';
import type { RoomRow } from './store/storedRecords.ts';
import { BackgroundSync, type BackgroundSyncOptions } from './sync/BackgroundSync.ts';
import type { BackoffOptions } from './sync/backoff.ts';
import { RoomConnection, type ConnectionState, type TokenProvider } from './sync/RoomConnection.ts';
import { defaultWebSocket, type WebSocketConstructor } from './sync/WebSocketLike.ts';

export interface ChatClientOptions {
  /** http(s)://host:port of the Parley server (REST under /api, sync under /sync). */
  readonly serverUrl: string;
  /**
   * Returns a token for the user (a JWT minted by the app's backend). Called before each
   * connection and REST call; `renew: true` after the server refused the last one (4401 / 401).
   * Offline, it may return the last token it had: the client reads who the user is from it.
   */
  readonly getToken: TokenProvider;
  /** Where to keep everything; default: DexieLocalStore on IndexedDB named `dbName`. */
  readonly store?: LocalStore;
  /** Default `parley:<userId>`: one database per user, so users of one browser never mix. */
  readonly dbName?: string;
  /** IndexedDB implementation for the default store (`fake-indexeddb` in Node). */
  readonly indexedDB?: IDBFactory;
  readonly IDBKeyRange?: typeof IDBKeyRange;
  /** Default: the global WebSocket (pass the `ws` package in Node 20). */
  readonly WebSocket?: WebSocketConstructor;
  readonly fetch?: typeof fetch;
  /** Default: the Web Locks API, else locks shared within this JavaScript realm. */
  readonly locks?: ClientIdLocks;
  /** Reconnect backoff of every room connection. Default 250 ms doubling to 30 s, with jitter. */
  readonly reconnect?: BackoffOptions;
  /** Rooms not opened in the foreground; `enabled: false` turns background sync off. */
  readonly background?: BackgroundSyncOptions & { readonly enabled?: boolean; readonly timeoutMs?: number };
  readonly compaction?: CompactionPolicy;
  /** Typing clears itself after this long without a startTyping() call. Default 5,000 ms. */
  readonly typingTimeoutMs?: number;
  /** The clock for message ids and timestamps (tests). */
  readonly now?: () => number;
  /** Ask the browser not to evict the database (navigator.storage.persist()). Default true. */
  readonly requestPersistentStorage?: boolean;
  /**
   * Largest sync frame sent, in bytes; keep it under the server's PARLEY_MAX_FRAME_BYTES. An
   * offline backlog or a large burst goes out as several updates under it. Default 512 KiB.
   */
  readonly maxFrameBytes?: number;
}

export interface RoomSummary {
  readonly room: ChatRoomModel;
  readonly unreadCount: number;
  readonly lastMessage: ChatMessage | null;
}

export interface ChatClientEvents {
  [name: string]: unknown;
  connection: ConnectionState;
  rooms: readonly RoomSummary[];
  /** Storage failures (quota), refused updates, malformed data, token failures. */
  error: ClientError;
  /** The client id was retired (the server held more under it than this device) and replaced. */
  clientId: number;
}

interface OpenRoom {
  readonly room: ChatRoom;
  readonly replica: RoomReplica;
  readonly connection: RoomConnection;
}

interface BackgroundRoom {
  readonly replica: RoomReplica;
  readonly connection: RoomConnection;
}

const SUMMARY_DELAY_MS = 25;
/** Another tab stored something in a room this tab has not opened: refresh its summary after this long. */
const TAB_SUMMARY_DELAY_MS = 250;

/**
 * The Parley client SDK: a user's rooms, stored on the device and synced with the server.
 * `ChatClient.open()` works offline (from the stored identity and data); everything syncs when
 * the server becomes reachable.
 */
export class ChatClient {
  readonly user: User;
  readonly store: LocalStore;
  readonly #opts: ChatClientOptions;
  readonly #ownsStore: boolean;
  readonly #lease: ClientIdLease;
  readonly #rest: RestClient;
  readonly #WebSocket: WebSocketConstructor;
  readonly #events = new Emitter<ChatClientEvents>();
  readonly #open = new Map<string, Promise<OpenRoom>>();
  readonly #background = new Map<string, Promise<void>>();
  readonly #backgroundRooms = new Map<string, BackgroundRoom>();
  readonly #backgroundSync: BackgroundSync | null;
  readonly #channelName: string;
  #rows = new Map<string, RoomRow>();
  #state: ConnectionState = 'offline';
  /** Whether the last network attempt (REST or a background sync) reached the server. */
  #reachable = false;
  #retiring: Promise<void> | null = null;
  #summaryTimers = new Map<string, ReturnType<typeof setTimeout>>();
  #persisted: boolean | null = null;
  #tabChannel: BroadcastChannel | null = null;
  #tabTimers = new Map<string, ReturnType<typeof setTimeout>>();
  #closed = false;

  private constructor(opts: ChatClientOptions, user: User, store: LocalStore, ownsStore: boolean, lease: ClientIdLease, rows: RoomRow[], channelName: string) {
    this.#opts = opts;
    this.user = user;
    this.store = store;
    this.#ownsStore = ownsStore;
    this.#lease = lease;
    this.#channelName = channelName;
    this.#rest = new RestClient(opts.serverUrl, opts.getToken, opts.fetch);
    this.#WebSocket = opts.WebSocket ?? defaultWebSocket();
    this.#rows = new Map(rows.map((row) => [row.id, row]));
    const bg = opts.background;
    this.#backgroundSync =
      bg?.enabled === false
        ? null
        : new BackgroundSync({
            ...bg,
            rooms: () => this.rooms().map((s) => s.room.id).filter((id) => !this.#open.has(id)),
            syncOnce: (roomId) => this.syncRoomOnce(roomId),
          });
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
    const client = new ChatClient(opts, user, store, opts.store === undefined, lease, rows, tabChannelName(dbName));
    if (opts.requestPersistentStorage !== false) void client.#requestPersistence();
    client.#followOtherTabs();
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
    return this.#lease.clientId;
  }

  get connectionState(): ConnectionState {
    return this.#state;
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
    return [...this.#rows.values()]
      .sort((a, b) => a.order - b.order)
      .map((row) => ({ room: row.room, unreadCount: row.unreadCount, lastMessage: row.lastMessage }));
  }

  /** Calls `listener` with the room list now and on every change; returns the unsubscribe function. */
  watchRooms(listener: (rooms: readonly RoomSummary[]) => void): () => void {
    listener(this.rooms());
    return this.on('rooms', listener);
  }

  /** Fetches the room list from the server, caches it, and syncs the rooms in the background. */
  async refreshRooms(): Promise<RoomSummary[]> {
    this.#assertOpen();
    let rooms: ChatRoomModel[];
    try {
      rooms = await this.#rest.listRooms();
      this.#reachable = true;
    } catch (error) {
      if (error instanceof ClientError && error.code === 'network') this.#reachable = false;
      this.#recomputeState();
      throw error;
    }
    const rows = rooms.map((room, order): RoomRow => {
      const known = this.#rows.get(room.id);
      const fallback = ChatMessageSchema.safeParse(room.last_message);
      return {
        id: room.id,
        room,
        order,
        unreadCount: known?.unreadCount ?? 0,
        lastMessage: known?.lastMessage ?? (fallback.success ? fallback.data : null),
      };
    });
    this.#rows = new Map(rows.map((row) => [row.id, row]));
    await this.store.replaceRooms(rows);
    for (const id of this.#open.keys()) this.#scheduleSummary(id);
    this.#emitRooms();
    void this.#backgroundSync?.kick();
    return this.rooms();
  }

  async createRoom(input: Partial<ChatRoomCreate> & Pick<ChatRoomCreate, 'type'>): Promise<ChatRoomModel> {
    this.#assertOpen();
    const room = await this.#rest.createRoom(input);
    await this.refreshRooms().catch(() => undefined);
    return room;
  }

  /** Opens a room: readable at once from the device, then kept in sync until closed. */
  openRoom(roomId: string): Promise<ChatRoom> {
    this.#assertOpen();
    let open = this.#open.get(roomId);
    if (!open) {
      open = this.#openRoom(roomId);
      this.#open.set(roomId, open);
      open.catch(() => this.#open.delete(roomId));
    }
    return open.then((o) => o.room);
  }

  /**
   * Drops everything this device holds of a room, including changes the server refused or never
   * got, so that the room can sync again after a refusal (`ChatRoom.refusal`). The room is closed
   * if open; the next openRoom() loads it from the server. The server then holds more under this
   * device's client id than the device does, so the client takes a fresh id (see docs/client.md).
   */
  async discardLocalChanges(roomId: string): Promise<void> {
    this.#assertOpen();
    const open = this.#open.get(roomId);
    if (open) await (await open).room.close();
    await this.#background.get(roomId);
    const row = this.#rows.get(roomId);
    await this.store.deleteRoom(roomId);
    // The cached room list entry stays; only its document and sync state go.
    if (row) await this.store.putRoom({ ...row, unreadCount: 0, lastMessage: null });
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
    const open = this.#open.get(roomId);
    if (open) await (await open.catch(() => null))?.room.close();
    await this.#background.get(roomId);
    this.#rows.delete(roomId);
    await this.store.deleteRoom(roomId);
    this.#emitRooms();
    await this.refreshRooms().catch(() => undefined);
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
   * The network is back (the browser's `online` event): reopen every room socket at once instead
   * of waiting out the backoff or the silence timeout, then refresh the room list and sync.
   */
  async reconnectNow(): Promise<void> {
    this.#assertOpen();
    for (const open of this.#open.values()) (await open.catch(() => null))?.connection.reconnectNow();
    await this.refreshRooms().catch(() => undefined);
  }

  /** Runs a background sweep now and resolves when it is done (also used by tests). */
  async syncInBackground(): Promise<void> {
    await this.#backgroundSync?.kick();
  }

  /**
   * Syncs one room once: connect, exchange what each side lacks, wait until the server
   * acknowledged everything of ours, disconnect; then update its summary. Never rejects.
   */
  syncRoomOnce(roomId: string): Promise<void> {
    if (this.#closed || this.#open.has(roomId)) return Promise.resolve();
    let running = this.#background.get(roomId);
    if (!running) {
      running = this.#syncOnce(roomId).finally(() => this.#background.delete(roomId));
      this.#background.set(roomId, running);
    }
    return running;
  }

  /** Closes every room and connection, stops background sync, releases the client id. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#backgroundSync?.stop();
    for (const timer of this.#summaryTimers.values()) clearTimeout(timer);
    this.#tabChannel?.close();
    for (const timer of this.#tabTimers.values()) clearTimeout(timer);
    const open = await Promise.allSettled([...this.#open.values()]);
    await Promise.all(open.flatMap((r) => (r.status === 'fulfilled' ? [r.value.room.close()] : [])));
    for (const bg of this.#backgroundRooms.values()) bg.connection.close();
    await Promise.allSettled([...this.#background.values()]);
    this.#lease.release();
    if (this.#ownsStore) await this.store.close();
    this.#events.clear();
  }

  async #openRoom(roomId: string): Promise<OpenRoom> {
    await this.#background.get(roomId);
    const replica = await this.#loadReplica(roomId);
    const awareness = new awarenessProtocol.Awareness(replica.doc);
    const connection = this.#connectionFor(replica, awareness);
    const members = (await this.store.getMembers(roomId))?.members ?? [];
    const cachedPresence = await this.store.getPresence(members.map((m) => m.user_id));
    const room = new ChatRoom({
      replica,
      connection,
      awareness,
      user: this.user,
      members,
      cachedPresence,
      typingTimeoutMs: this.#opts.typingTimeoutMs ?? 5_000,
      now: this.#opts.now ?? Date.now,
      onClose: async () => {
        this.#open.delete(roomId);
        connection.close();
        awareness.destroy();
        offChanged();
        await replica.close();
        this.#recomputeState();
      },
    });
    const offChanged = replica.on('changed', () => this.#scheduleSummary(roomId));
    replica.on('error', (e) => this.#events.emit('error', e));
    connection.on('stopped', (e) => this.#events.emit('error', e));
    if (replica.refusal === null) connection.connect();
    void this.#refreshMembers(room);
    return { room, replica, connection };
  }

  async #afterMembership(roomId: string): Promise<void> {
    const open = this.#open.get(roomId);
    const room = open ? (await open.catch(() => null))?.room : null;
    if (room && !room.closed) await this.#refreshMembers(room);
    await this.refreshRooms().catch(() => undefined);
  }

  async #refreshMembers(room: ChatRoom): Promise<void> {
    try {
      const members = await this.#rest.members(room.id);
      await this.store.putMembers({ roomId: room.id, members });
      room.setMembers(members);
    } catch {
      // Offline or no longer a member: the cached list stays; the sync connection reports access.
    }
  }

  async #syncOnce(roomId: string): Promise<void> {
    let replica: RoomReplica;
    try {
      replica = await this.#loadReplica(roomId);
    } catch (error) {
      this.#events.emit('error', error instanceof ClientError ? error : new ClientError('storage_failed', String(error), error));
      return;
    }
    if (replica.refusal !== null || this.#closed) {
      await replica.close();
      return;
    }
    const connection = this.#connectionFor(replica, undefined);
    this.#backgroundRooms.set(roomId, { replica, connection });
    const timeoutMs = this.#opts.background?.timeoutMs ?? 20_000;
    await new Promise<void>((resolve) => {
      let tried = false;
      const offs: Array<() => void> = [];
      const timer = setTimeout(() => done(), timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        for (const off of offs) off();
        resolve();
      };
      const check = (): void => {
        if (connection.synced && !replica.hasPending()) done();
      };
      offs.push(
        connection.on('synced', check),
        replica.on('states', check),
        connection.on('stopped', (e) => {
          this.#events.emit('error', e);
          done();
        }),
        connection.on('state', (state) => {
          if (state === 'connecting') tried = true;
          else if (state === 'offline' && tried && !connection.synced) {
            this.#reachable = false;
            done();
          }
        }),
      );
      connection.connect();
    });
    if (connection.synced) this.#reachable = true;
    connection.close();
    this.#backgroundRooms.delete(roomId);
    this.#updateSummary(roomId, replica);
    await replica.close();
    this.#recomputeState();
  }

  async #loadReplica(roomId: string): Promise<RoomReplica> {
    const replica = await RoomReplica.load(this.store, roomId, this.#lease.clientId, {
      ...(this.#opts.compaction ? { compaction: this.#opts.compaction } : {}),
      channelName: this.#channelName,
    });
    replica.onClientIdConflict = () => this.#retireClientId();
    return replica;
  }

  #connectionFor(replica: RoomReplica, awareness: awarenessProtocol.Awareness | undefined): RoomConnection {
    const connection = new RoomConnection(replica, {
      serverUrl: this.#opts.serverUrl,
      getToken: this.#opts.getToken,
      WebSocket: this.#WebSocket,
      ...(this.#opts.reconnect ? { backoff: this.#opts.reconnect } : {}),
      ...(this.#opts.maxFrameBytes === undefined ? {} : { maxFrameBytes: this.#opts.maxFrameBytes }),
      ...(awareness ? { awareness } : {}),
    });
    replica.attach(connection);
    connection.on('state', () => this.#recomputeState());
    connection.on('error', (e) => this.#events.emit('error', e));
    return connection;
  }

  /**
   * The server holds more under our client id than this device stored (the device lost data, or
   * a copy of its database wrote elsewhere): that id is retired for good and every document
   * switches to a fresh one before sending anything.
   */
  #retireClientId(): Promise<void> {
    this.#retiring ??= (async () => {
      const next = await this.#lease.retire();
      const replicas = [...this.#backgroundRooms.values()].map((b) => b.replica);
      for (const open of this.#open.values()) replicas.push((await open).replica);
      for (const replica of replicas) replica.doc.clientID = next;
      this.#events.emit('clientId', next);
    })().finally(() => {
      this.#retiring = null;
    });
    return this.#retiring;
  }

  #scheduleSummary(roomId: string): void {
    if (this.#summaryTimers.has(roomId) || this.#closed) return;
    this.#summaryTimers.set(
      roomId,
      setTimeout(() => {
        this.#summaryTimers.delete(roomId);
        const open = this.#open.get(roomId);
        if (open) void open.then((o) => this.#updateSummary(roomId, o.replica));
        else if (!this.#background.has(roomId)) void this.#summaryFromStore(roomId);
      }, SUMMARY_DELAY_MS),
    );
  }

  /**
   * Another tab of this user stored something in a room this tab has not opened (a message it
   * received, a read): the room list here follows from the shared database, with no socket.
   */
  #followOtherTabs(): void {
    if (typeof BroadcastChannel === 'undefined') return;
    this.#tabChannel = new BroadcastChannel(this.#channelName);
    this.#tabChannel.onmessage = (event: MessageEvent<unknown>) => {
      const grew = TabMessageSchema.safeParse(event.data);
      const roomId = grew.success ? grew.data.roomId : null;
      if (roomId === null || !this.#rows.has(roomId) || this.#open.has(roomId) || this.#tabTimers.has(roomId)) return;
      // Loading a room from the store costs more than reading an open one: once per burst.
      this.#tabTimers.set(
        roomId,
        setTimeout(() => {
          this.#tabTimers.delete(roomId);
          this.#scheduleSummary(roomId);
        }, TAB_SUMMARY_DELAY_MS),
      );
    };
  }

  async #summaryFromStore(roomId: string): Promise<void> {
    try {
      const replica = await RoomReplica.load(this.store, roomId, this.#lease.clientId);
      this.#updateSummary(roomId, replica);
      await replica.close();
    } catch (error) {
      this.#events.emit('error', error instanceof ClientError ? error : new ClientError('storage_failed', String(error), error));
    }
  }

  #updateSummary(roomId: string, replica: RoomReplica): void {
    const row = this.#rows.get(roomId);
    if (!row || this.#closed) return;
    const last = lastMessage(replica.doc);
    const next: RoomRow = {
      ...row,
      unreadCount: unreadCount(replica.doc, this.user.id),
      lastMessage: last ? toChatMessage(last, roomId) : row.lastMessage,
    };
    this.#rows.set(roomId, next);
    this.store.putRoom(next).catch((error: unknown) => this.#events.emit('error', error instanceof ClientError ? error : new ClientError('storage_failed', String(error))));
    this.#emitRooms();
  }

  #emitRooms(): void {
    this.#events.emit('rooms', this.rooms());
  }

  #recomputeState(): void {
    const states: ConnectionState[] = [];
    for (const bg of this.#backgroundRooms.values()) states.push(bg.connection.state);
    void Promise.all([...this.#open.values()].map((p) => p.then((o) => o.connection.state).catch(() => 'offline' as const))).then((open) => {
      const all = states.concat(open);
      const next: ConnectionState = all.includes('online')
        ? 'online'
        : all.includes('connecting')
          ? 'connecting'
          : all.length === 0 && this.#reachable
            ? 'online'
            : 'offline';
      if (next === this.#state || this.#closed) return;
      this.#state = next;
      this.#events.emit('connection', next);
    });
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
