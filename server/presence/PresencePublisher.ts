import type { Directory } from '../storage/Directory.ts';
import type { RoomRegistry } from '../sync/RoomRegistry.ts';
import type { Room } from '../sync/Room.ts';
import type { PresenceTracker } from './PresenceTracker.ts';
import type { UserPresence } from '../../shared/models/userPresence.ts';

/** The server's awareness state in every room: `{ parley: 'server', presence: { [userId]: UserPresence } }`. */
export const SERVER_AWARENESS_KIND = 'server';

/**
 * Publishes each loaded room's member presence as the server's own awareness state, so every
 * connected member (stock y-websocket clients included) sees online/offline, last seen and
 * status changes as soon as they happen, with no polling.
 */
export class PresencePublisher {
  readonly #directory: Directory;
  readonly #registry: RoomRegistry;
  readonly #tracker: PresenceTracker;
  /** Active member ids of each loaded room, refreshed on membership changes. */
  readonly #members = new Map<string, Set<string>>();

  constructor(directory: Directory, registry: RoomRegistry, tracker: PresenceTracker) {
    this.#directory = directory;
    this.#registry = registry;
    this.#tracker = tracker;
  }

  /** A room was loaded or its membership changed: publish its whole presence map. */
  refreshRoom(room: Room): void {
    const members = new Set(this.#directory.members.listActiveUserIds(room.roomId));
    this.#members.set(room.roomId, members);
    this.#publish(room, members);
  }

  /** A user went online or offline, or changed status: republish every loaded room they are in. */
  userChanged(userId: string): void {
    for (const room of this.#registry.loaded()) {
      let members = this.#members.get(room.roomId);
      if (!members) {
        this.refreshRoom(room);
        continue;
      }
      if (members.has(userId)) this.#publish(room, members);
    }
  }

  roomUnloaded(roomId: string): void {
    this.#members.delete(roomId);
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

  #publish(room: Room, members: ReadonlySet<string>): void {
    const presence: Record<string, UserPresence> = {};
    for (const userId of members) presence[userId] = this.presenceOf(userId);
    room.setServerState({ parley: SERVER_AWARENESS_KIND, presence });
  }
}
