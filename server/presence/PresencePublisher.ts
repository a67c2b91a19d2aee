import type { Directory } from '../storage/Directory.ts';
import type { RoomRegistry } from '../sync/RoomRegistry.ts';
import type { Room } from '../sync/Room.ts';
import type { PresenceTracker } from './PresenceTracker.ts';
import type { UserPresence } from '../../shared/models/userPresence.ts';

/** The server's awareness state in every room: `{ parley: 'server', presence: { [userId]: UserPresence } }`. */
export const SERVER_AWARENESS_KIND = 'server';

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
  readonly #registry: RoomRegistry;
  readonly #tracker: PresenceTracker;
  /** Active member ids of each loaded room, refreshed on membership changes. */
  readonly #members = new Map<string, Set<string>>();
  /** Rooms whose presence changed since the last publication. */
  readonly #dirty = new Set<string>();
  #timer: NodeJS.Timeout | null = null;

  constructor(directory: Directory, registry: RoomRegistry, tracker: PresenceTracker) {
    this.#directory = directory;
    this.#registry = registry;
    this.#tracker = tracker;
  }

  /** A room was loaded: publish its presence map now, before anyone syncs. */
  roomLoaded(room: Room): void {
    this.#members.set(room.roomId, new Set(this.#directory.members.listActiveUserIds(room.roomId)));
    this.#publish(room);
  }

  /** The room's membership changed: re-read its members and republish soon. */
  membershipChanged(roomId: string): void {
    if (!this.#members.has(roomId)) return;
    this.#members.set(roomId, new Set(this.#directory.members.listActiveUserIds(roomId)));
    this.#markDirty(roomId);
  }

  /** A user went online or offline, or changed status: republish every loaded room they are in. */
  userChanged(userId: string): void {
    for (const [roomId, members] of this.#members) if (members.has(userId)) this.#markDirty(roomId);
  }

  roomUnloaded(roomId: string): void {
    this.#members.delete(roomId);
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
    for (const roomId of rooms) {
      const room = this.#registry.get(roomId);
      if (room) this.#publish(room);
    }
  }

  presenceOf(userId: string): UserPresence {
    const stored = this.#directory.presence.get(userId);
    return {
      user_id: userId,
      is_online: this.#tracker.isOnline(userId),
      last_seen_at: stored.last_seen_at,
      status: stored.status,
    };
  }

  #publish(room: Room): void {
    const presence: Record<string, UserPresence> = {};
    for (const userId of this.#members.get(room.roomId) ?? []) presence[userId] = this.presenceOf(userId);
    room.setServerState({ parley: SERVER_AWARENESS_KIND, presence });
  }
}
