import type { Directory } from '../storage/Directory.ts';
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

/**
 * Publishes each loaded room's member presence as the server's own awareness state, so every
 * connected member (stock y-websocket clients included) sees online/offline, last seen and
 * status changes within PRESENCE_COALESCE_MS, with no polling.
 */
export class PresencePublisher {
  readonly #directory: Directory;
  readonly #tracker: PresenceTracker;
  /** Each loaded room and its active member ids, refreshed on membership changes. */
  readonly #rooms = new Map<string, { room: Room; members: Set<string> }>();
  /** Rooms whose presence changed since the last publication. */
  readonly #dirty = new Set<string>();
  #timer: NodeJS.Timeout | null = null;

  constructor(directory: Directory, tracker: PresenceTracker) {
    this.#directory = directory;
    this.#tracker = tracker;
  }

  /** A room was loaded: publish its presence map now, before anyone syncs. */
  roomLoaded(room: Room): void {
    this.#rooms.set(room.roomId, { room, members: this.#activeMembers(room.roomId) });
    this.#publish(room.roomId);
  }

  /** The room's membership changed: re-read its members and republish soon. */
  membershipChanged(roomId: string): void {
    const entry = this.#rooms.get(roomId);
    if (!entry) return;
    entry.members = this.#activeMembers(roomId);
    this.#markDirty(roomId);
  }

  /** A user went online or offline, or changed status: republish every loaded room they are in. */
  userChanged(userId: string): void {
    for (const [roomId, { members }] of this.#rooms) if (members.has(userId)) this.#markDirty(roomId);
  }

  roomUnloaded(roomId: string): void {
    this.#rooms.delete(roomId);
    this.#dirty.delete(roomId);
  }

  /** Cancels a pending publication (shutdown). */
  close(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#dirty.clear();
  }

  #markDirty(roomId: string): void {
    this.#dirty.add(roomId);
    this.#timer ??= setTimeout(() => this.#flush(), PRESENCE_COALESCE_MS);
  }

  #flush(): void {
    this.#timer = null;
    const rooms = [...this.#dirty];
    this.#dirty.clear();
    for (const roomId of rooms) this.#publish(roomId);
  }

  #activeMembers(roomId: string): Set<string> {
    return new Set(this.#directory.members.listActiveUserIds(roomId));
  }

  #publish(roomId: string): void {
    const entry = this.#rooms.get(roomId);
    if (!entry) return;
    const presence: Record<string, UserPresence> = {};
    for (const p of usersPresence(this.#directory, this.#tracker, [...entry.members])) presence[p.user_id] = p;
    const state: ServerPresenceState = { parley: SERVER_AWARENESS_KIND, presence };
    entry.room.roomAwareness.setServerState(state);
  }
}
