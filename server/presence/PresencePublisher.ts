import type { Logger } from '../log.ts';
import type { Directory } from '../storage/Directory.ts';
import type { DirectoryApi } from '../storage/DirectoryApi.ts';
import type { Room } from '../sync/Room.ts';
import type { PresenceTracker } from './PresenceTracker.ts';
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
 */
export class PresencePublisher {
  readonly #directory: DirectoryApi;
  readonly #tracker: PresenceTracker;
  readonly #logger: Logger;
  readonly #atLoad: Directory | null;
  /** Each loaded room and its active member ids, refreshed on membership changes. */
  readonly #rooms = new Map<string, Entry>();
  /** Rooms whose presence changed since the last publication. */
  readonly #dirty = new Set<string>();
  readonly #inFlight = new Set<Promise<void>>();
  #timer: NodeJS.Timeout | null = null;
  #closed = false;

  /**
   * `atLoad`: the synchronous directory where there is one (SQLite). A room's first publication is
   * read from it within the load, so the room's presence is in place before anyone syncs: the
   * command endpoint's events take the first state they see as the baseline, and would otherwise
   * announce every member's presence as a change. Without it (PostgreSQL) the first publication
   * is asynchronous like the others, until rooms are prepared before their first frame
   * (docs/scale-out.md, "Next: the server on asynchronous repositories", step 2).
   */
  constructor(directory: DirectoryApi, tracker: PresenceTracker, logger: Logger, atLoad: Directory | null = null) {
    this.#directory = directory;
    this.#tracker = tracker;
    this.#logger = logger;
    this.#atLoad = atLoad;
  }

  /** A room was loaded: its members are read and its presence map published, before anyone syncs where `atLoad` allows. */
  roomLoaded(room: PresenceRoom): void {
    if (this.#closed) return;
    const entry: Entry = { room, members: new Set(), membersStale: true, publishing: null, again: false };
    this.#rooms.set(room.roomId, entry);
    const directory = this.#atLoad;
    if (!directory) return this.#publish(entry);
    try {
      entry.members = new Set(directory.members.listActiveUserIds(room.roomId));
      entry.membersStale = false;
      const stored = directory.presence.getMany([...entry.members]);
      this.#set(
        entry,
        [...entry.members].map((userId) => ({ user_id: userId, is_online: this.#tracker.isOnline(userId), ...(stored.get(userId) ?? { last_seen_at: null, status: null }) })),
      );
    } catch (err) {
      this.#logger.error({ err, room: room.roomId }, 'presence: publishing a room’s presence failed');
      this.#publish(entry);
    }
  }

  /** The room's membership changed: its members are read again and it republishes soon. */
  membershipChanged(roomId: string): void {
    const entry = this.#rooms.get(roomId);
    if (!entry) return;
    entry.membersStale = true;
    this.#markDirty(roomId);
  }

  /** A user went online or offline, or changed status: republish every loaded room they are in. */
  userChanged(userId: string): void {
    // A room whose publication is reading may be reading its members: it republishes too.
    for (const [roomId, entry] of this.#rooms) if (entry.members.has(userId) || entry.publishing) this.#markDirty(roomId);
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

  #publish(entry: Entry): void {
    if (entry.publishing) {
      entry.again = true;
      return;
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
