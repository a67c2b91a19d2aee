import type { Directory } from '../storage/Directory.ts';
import type { UserPresence } from '../../shared/models/userPresence.ts';
import type { PresenceTracker } from './PresenceTracker.ts';

/**
 * UserPresence of each of `userIds`, in order: online from the in-memory tracker, last seen and
 * status from storage in one query. The REST API and the rooms' presence entries both use it.
 */
export function usersPresence(directory: Directory, tracker: PresenceTracker, userIds: readonly string[]): UserPresence[] {
  const stored = directory.presence.getMany(userIds);
  return userIds.map((userId) => {
    const { last_seen_at, status } = stored.get(userId) ?? { last_seen_at: null, status: null };
    return { user_id: userId, is_online: tracker.isOnline(userId), last_seen_at, status };
  });
}

/** The UserPresence of one user. */
export function userPresence(directory: Directory, tracker: PresenceTracker, userId: string): UserPresence {
  const [presence] = usersPresence(directory, tracker, [userId]);
  if (!presence) throw new Error('usersPresence returned nothing for one id');
  return presence;
}
