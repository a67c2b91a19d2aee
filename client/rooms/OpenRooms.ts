import * as awarenessProtocol from 'y-protocols/awareness';
import type { ChatMember } from '../../shared/models/chatMember.ts';
import type { User } from '../../shared/models/user.ts';
import type { RestClient } from '../api/RestClient.ts';
import type { ClientError } from '../errors/ClientError.ts';
import { ChatRoom } from '../room/ChatRoom.ts';
import type { RoomReplica } from '../room/RoomReplica.ts';
import type { OpenSegment } from '../room/RoomSegments.ts';
import { parseDocName } from '../../shared/roomDoc/segments.ts';
import type { LocalStore } from '../store/LocalStore.ts';
import type { BackgroundSync } from '../sync/BackgroundSync.ts';
import type { RoomConnection } from '../sync/RoomConnection.ts';
import type { RoomSyncFactory } from '../sync/RoomSyncFactory.ts';
import { RecentPage } from '../room/RecentPage.ts';

interface OpenRoom {
  readonly room: ChatRoom;
  readonly replica: RoomReplica;
  readonly connection: RoomConnection;
}

export interface OpenRoomsDeps {
  readonly store: LocalStore;
  readonly rest: RestClient;
  readonly user: User;
  readonly factory: RoomSyncFactory;
  readonly background: BackgroundSync;
  readonly typingTimeoutMs: number;
  readonly now: () => number;
  /** The room's document changed (its summary in the room list is due). */
  readonly changed: (roomId: string) => void;
  /** A room's member list came from the server (names for the room list's previews). */
  readonly membersLoaded: (members: readonly ChatMember[]) => void;
  readonly onError: (error: ClientError) => void;
}

/**
 * The rooms open in the foreground: each readable at once from the device, with its own
 * connection kept live (and its presence and typing) until the app closes it.
 */
export class OpenRooms {
  readonly #d: OpenRoomsDeps;
  readonly #open = new Map<string, Promise<OpenRoom>>();
  /** Counts open() calls, so withRoom can tell whether the app asked for a room meanwhile. */
  #asked = 0;

  constructor(deps: OpenRoomsDeps) {
    this.#d = deps;
  }

  has(roomId: string): boolean {
    return this.#open.has(roomId);
  }

  ids(): string[] {
    return [...this.#open.keys()];
  }

  /** The room, opening it first if needed (one ChatRoom per room however often it is asked for). */
  open(roomId: string): Promise<ChatRoom> {
    this.#asked += 1;
    let open = this.#open.get(roomId);
    if (!open) {
      open = this.#openRoom(roomId);
      this.#open.set(roomId, open);
      open.catch(() => this.#open.delete(roomId));
    }
    return open.then((o) => o.room);
  }

  /**
   * Runs `use` on the room. A room the app has not open is opened for the call and closed after
   * it, unless the app opened it meanwhile; `opened` tells the caller it was (its writes then
   * still have to reach the server: the caller syncs it once).
   */
  async withRoom<T>(roomId: string, use: (room: ChatRoom) => Promise<T>): Promise<{ readonly result: T; readonly opened: boolean }> {
    const wasOpen = this.#open.has(roomId);
    const room = await this.open(roomId);
    const asked = this.#asked;
    try {
      return { result: await use(room), opened: !wasOpen };
    } finally {
      if (!wasOpen && this.#asked === asked && !room.closed) await room.close();
    }
  }

  /** The room if it is open (or opening), null otherwise; never rejects. */
  async get(roomId: string): Promise<ChatRoom | null> {
    return (await this.#open.get(roomId)?.catch(() => null))?.room ?? null;
  }

  /** The replica of an open room, null when the room is not open. */
  replica(roomId: string): Promise<RoomReplica> | null {
    return this.#open.get(roomId)?.then((o) => o.replica) ?? null;
  }

  /** The replicas of every room opened successfully. */
  async replicas(): Promise<RoomReplica[]> {
    const settled = await Promise.allSettled(this.#open.values());
    return settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value.replica] : []));
  }

  /** Closes the room if it is open. */
  async close(roomId: string): Promise<void> {
    await (await this.get(roomId))?.close();
  }

  /** Drops every socket at once and connects again (the browser's `online` event). */
  async reconnectNow(): Promise<void> {
    for (const open of this.#open.values()) (await open.catch(() => null))?.connection.reconnectNow();
  }

  async closeAll(): Promise<void> {
    const open = await Promise.allSettled([...this.#open.values()]);
    await Promise.all(open.flatMap((r) => (r.status === 'fulfilled' ? [r.value.room.close()] : [])));
  }

  /** Fetches the room's members from the server into the cache and the open room; offline, the cache stands. */
  async refreshMembers(room: ChatRoom): Promise<void> {
    try {
      const members = await this.#d.rest.members(room.id);
      await this.#d.store.putMembers({ roomId: room.id, members });
      this.#d.membersLoaded(members);
      room.setMembers(members);
    } catch {
      // Offline or no longer a member: the cached list stays; the sync connection reports access.
    }
  }

  /** A segment of an open room: its own replica on the device and connection (a channel of the shared socket), no awareness. */
  async #openSegment(docName: string, { paced = false }: { paced?: boolean } = {}): Promise<OpenSegment> {
    const n = parseDocName(docName)?.segment;
    if (n === undefined || n === null) throw new Error(`${docName} is not a segment`);
    const { factory } = this.#d;
    const replica = await factory.loadReplica(docName);
    const { connection, release } = factory.connect(replica, undefined, { paced });
    const offs = [connection.on('stopped', this.#d.onError), connection.on('refused', this.#d.onError)];
    connection.connect();
    return {
      n,
      replica,
      connection,
      close: async (forget = false) => {
        for (const off of offs) off();
        connection.close();
        release();
        await replica.close();
        if (forget) await this.#d.store.deleteRoom(docName);
      },
    };
  }

  async #openRoom(roomId: string): Promise<OpenRoom> {
    const { store, user, factory, background } = this.#d;
    await background.settled(roomId);
    const [replica, recent] = await Promise.all([factory.loadReplica(roomId), RecentPage.load(roomId, store)]);
    const awareness = new awarenessProtocol.Awareness(replica.doc);
    const { connection, release } = factory.connect(replica, awareness);
    const members = (await store.getMembers(roomId))?.members ?? [];
    const cachedPresence = await store.getPresence(members.map((m) => m.user_id));
    const room = new ChatRoom({
      replica,
      connection,
      awareness,
      user,
      members,
      cachedPresence,
      typingTimeoutMs: this.#d.typingTimeoutMs,
      now: this.#d.now,
      openSegment: (docName, opts) => this.#openSegment(docName, opts),
      recent,
      onClose: async () => {
        this.#open.delete(roomId);
        connection.close();
        release();
        awareness.destroy();
        offChanged();
        await replica.close();
      },
    });
    const offChanged = replica.on('changed', () => this.#d.changed(roomId));
    replica.on('error', this.#d.onError);
    connection.on('stopped', this.#d.onError);
    connection.on('refused', this.#d.onError);
    connection.connect();
    void this.refreshMembers(room);
    return { room, replica, connection };
  }
}
