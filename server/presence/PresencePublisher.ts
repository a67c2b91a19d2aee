import type { Logger } from '../log.ts';
import type { DirectoryApi } from '../storage/DirectoryApi.ts';
import type { Room } from '../sync/Room.ts';
import type { PresenceTracker } from './PresenceTracker.ts';
import type { StoredPresence } from '../storage/PresenceRepo.ts';
import { usersPresence } from './usersPresence.ts';
import type { UserPresence } from '../../shared/models/userPresence.ts';
import { SERVER_AWARENESS_KIND, type ServerPresenceState } from '../../shared/protocol/awarenessStates.ts';

/**
 * How long presence changes in a room are gathered before one publication. Without it, N
 * members joining at once would each broadcast the whole N-member map to every connection:
 * O(N²) sends in a join storm. The brief allows 2 s from change to every member.
 */
export const PRESENCE_COALESCE_MS = 200;

/** What the publisher needs of a loaded room (a Room). */
export type PresenceRoom = Pick<Room, 'roomId'> & { readonly roomAwareness: Pick<Room['roomAwareness'], 'setServerState'> };

interface Entry {
  readonly room: PresenceRoom;
  /** The room's active member ids, as last read. */
  members: Set<string>;
  /** The membership changed since `members` was read: the next publication reads it again. */
  membersStale: boolean;
  /** The publication in flight, or null. */
  publishing: Promise<void> | null;
  /** Something changed while `publishing` read: it runs once more when it ends. */
  again: boolean;
  /** The first publication while it is awaited (a room loaded without its presence read ahead), else null. */
  first: Promise<void> | null;
}

/** A room's presence read ahead of its load (`ready`), so that the load sets it at once. */
interface Prepared {
  /** The room's active members and their stored presence, once read (null: reading, or the read failed). */
  read: { readonly members: readonly string[]; readonly stored: Map<string, StoredPresence> } | null;
  /** Resolves when the read ends, whether it succeeded or not. */
  readonly reading: Promise<void>;
  /** A change since the read began that it may have missed: the room publishes again once loaded. */
  stale: boolean;
}

/**
 * Publishes each loaded room's member presence as the server's own awareness state, so every
 * connected member (stock y-websocket clients included) sees online/offline, last seen and
 * status changes within PRESENCE_COALESCE_MS, with no polling.
 *
 * The directory is read asynchronously, so a publication is a read and, later, a write of the
 * room's state, and a change may land between the two. The last state wins: a room has one
 * publication in flight at a time, and a change during it (or a publication asked for meanwhile)
 * makes it run again once it ends, so the state set last was read after the last change; who is
 * online is taken from the tracker when the read has answered. close() waits for publications
 * in flight (the database closes after it).
 *
 * A room's first state is in place before any peer syncs, on either backend: `ready` (awaited by
 * RoomRegistry's `prepare` before every peer's open) reads the members and their stored presence
 * ahead of the load, and `roomLoaded` sets them within the load, online as the tracker says then.
 * The command endpoint's events take the first state they see as the baseline, and would otherwise
 * announce every member's presence as a change. A change during that read marks it stale: it is
 * still set at the load, and published again at once. A room loaded with no read at hand (a load
 * of the server's own) publishes asynchronously, and `ready` waits for that first publication.
 */
export class PresencePublisher {
  readonly #directory: DirectoryApi;
  readonly #tracker: PresenceTracker;
  readonly #logger: Logger;
  /** Each loaded room and its active member ids, refreshed on membership changes. */
  readonly #rooms = new Map<string, Entry>();
  /** Presence read ahead of a room's load, by document name, until the load takes it. */
  readonly #prepared = new Map<string, Prepared>();
  /** Rooms whose presence changed since the last publication. */
  readonly #dirty = new Set<string>();
  readonly #inFlight = new Set<Promise<void>>();
  #timer: NodeJS.Timeout | null = null;
  #closed = false;

  constructor(directory: DirectoryApi, tracker: PresenceTracker, logger: Logger) {
    this.#directory = directory;
    this.#tracker = tracker;
    this.#logger = logger;
  }

  /**
   * What a peer's open of `docName` awaits (RoomRegistry's `prepare`): its presence read ahead
   * while it is not loaded, its first publication while that is in flight; null when there is
   * nothing to wait for. Never rejects: a failed read is logged, and the room publishes after its load.
   */
  ready(docName: string): Promise<void> | null {
    if (this.#closed) return null;
    const entry = this.#rooms.get(docName);
    if (entry) return entry.first;
    const prepared = this.#prepared.get(docName);
    if (prepared?.read && !prepared.stale) return null;
    // Loaded meanwhile by a load that did not take this read: its first publication, then.
    const reading = prepared && !prepared.read ? prepared.reading : this.#readAhead(docName);
    return reading.then(() => this.#rooms.get(docName)?.first ?? undefined);
  }

  #readAhead(docName: string): Promise<void> {
    const read = async (): Promise<Prepared['read']> => {
      const members = await this.#directory.members.listActiveUserIds(docName);
      return { members, stored: await this.#directory.presence.getMany(members) };
    };
    const prepared: Prepared = {
      read: null,
      stale: false,
      reading: read().then(
        (value) => void (prepared.read = value),
        (err: unknown) => {
          this.#logger.error({ err, room: docName }, 'presence: reading a room’s presence ahead of its load failed');
          if (this.#prepared.get(docName) === prepared) this.#prepared.delete(docName);
        },
      ),
    };
    this.#prepared.set(docName, prepared);
    return prepared.reading;
  }

  /** A room was loaded: its presence read ahead is set now, before anyone syncs; without one it is read and published. */
  roomLoaded(room: PresenceRoom): void {
    if (this.#closed) return;
    const entry: Entry = { room, members: new Set(), membersStale: true, publishing: null, again: false, first: null };
    this.#rooms.set(room.roomId, entry);
    const prepared = this.#prepared.get(room.roomId);
    this.#prepared.delete(room.roomId);
    if (!prepared?.read) {
      const first = this.#publish(entry).then(() => {
        if (entry.first === first) entry.first = null;
      });
      entry.first = first;
      return;
    }
    const { members, stored } = prepared.read;
    entry.members = new Set(members);
    entry.membersStale = prepared.stale;
    this.#set(entry, members.map((userId) => ({ user_id: userId, is_online: this.#tracker.isOnline(userId), ...(stored.get(userId) ?? { last_seen_at: null, status: null }) })));
    if (prepared.stale) this.#publish(entry);
  }

  /** The room's membership changed: its members are read again and it republishes soon. */
  membershipChanged(roomId: string): void {
    const prepared = this.#prepared.get(roomId);
    if (prepared) prepared.stale = true;
    const entry = this.#rooms.get(roomId);
    if (!entry) return;
    entry.membersStale = true;
    this.#markDirty(roomId);
  }

  /** A user went online or offline, or changed status: republish every loaded room they are in. */
  userChanged(userId: string): void {
    // A room whose publication is reading may be reading its members: it republishes too.
    for (const [roomId, entry] of this.#rooms) if (entry.members.has(userId) || entry.publishing) this.#markDirty(roomId);
    for (const prepared of this.#prepared.values()) if (!prepared.read || prepared.read.members.includes(userId)) prepared.stale = true;
  }

  roomUnloaded(roomId: string): void {
    this.#rooms.delete(roomId);
    this.#dirty.delete(roomId);
  }

  /** Stops (shutdown): a pending publication is dropped, those in flight are waited for. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#dirty.clear();
    this.#prepared.clear();
    while (this.#inFlight.size > 0) await Promise.all(this.#inFlight);
  }

  #markDirty(roomId: string): void {
    if (this.#closed) return;
    this.#dirty.add(roomId);
    this.#timer ??= setTimeout(() => this.#flush(), PRESENCE_COALESCE_MS);
  }

  #flush(): void {
    this.#timer = null;
    const rooms = [...this.#dirty];
    this.#dirty.clear();
    for (const roomId of rooms) {
      const entry = this.#rooms.get(roomId);
      if (entry) this.#publish(entry);
    }
  }

  /** Whether `entry` is still the loaded room's (not unloaded, reloaded, or closed). */
  #live(entry: Entry): boolean {
    return !this.#closed && this.#rooms.get(entry.room.roomId) === entry;
  }

  /** Publishes the room's presence (once more after the one in flight, if any); resolves when it is set, or failed. */
  #publish(entry: Entry): Promise<void> {
    if (entry.publishing) {
      entry.again = true;
      return entry.publishing;
    }
    const run = (async () => {
      do {
        entry.again = false;
        await this.#publishOnce(entry);
      } while (entry.again && this.#live(entry));
    })()
      .catch((err: unknown) => this.#logger.error({ err, room: entry.room.roomId }, 'presence: publishing a room’s presence failed'))
      .finally(() => {
        entry.publishing = null;
        this.#inFlight.delete(run);
      });
    entry.publishing = run;
    this.#inFlight.add(run);
    return run;
  }

  async #publishOnce(entry: Entry): Promise<void> {
    if (entry.membersStale) {
      entry.membersStale = false;
      try {
        entry.members = new Set(await this.#directory.members.listActiveUserIds(entry.room.roomId));
      } catch (err) {
        entry.membersStale = true;
        throw err;
      }
    }
    const list = await usersPresence(this.#directory, this.#tracker, [...entry.members]);
    if (this.#live(entry)) this.#set(entry, list);
  }

  #set(entry: Entry, list: readonly UserPresence[]): void {
    const presence: Record<string, UserPresence> = {};
    for (const p of list) presence[p.user_id] = p;
    const state: ServerPresenceState = { parley: SERVER_AWARENESS_KIND, presence };
    entry.room.roomAwareness.setServerState(state);
  }
}
