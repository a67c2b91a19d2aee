import type { StoredPresence } from '../storage/PresenceRepo.ts';
import type { UserPresence } from '../../shared/models/userPresence.ts';
import type { PresenceTracker } from './PresenceTracker.ts';

/**
 * Where stored presence is read: a DirectoryApi (either backend), or, while the REST routes still
 * hold the synchronous Directory, that one; both answer `getMany` (at once or as a promise).
 */
export interface PresenceSource {
  readonly presence: { getMany(userIds: readonly string[]): Map<string, StoredPresence> | Promise<Map<string, StoredPresence>> };
}

/**
 * UserPresence of each of `userIds`, in order: last seen and status from storage in one query,
 * online from the in-memory tracker read when that query has answered, so the answer is never
 * older than the tracker at the time it resolves. The REST API and the rooms' presence entries both use it.
 */
export async function usersPresence(directory: PresenceSource, tracker: PresenceTracker, userIds: readonly string[]): Promise<UserPresence[]> {
  const stored = await directory.presence.getMany(userIds);
  return userIds.map((userId) => {
    const { last_seen_at, status } = stored.get(userId) ?? { last_seen_at: null, status: null };
    return { user_id: userId, is_online: tracker.isOnline(userId), last_seen_at, status };
  });
}

/** The UserPresence of one user. */
export async function userPresence(directory: PresenceSource, tracker: PresenceTracker, userId: string): Promise<UserPresence> {
  const [presence] = await usersPresence(directory, tracker, [userId]);
  if (!presence) throw new Error('usersPresence returned nothing for one id');
  return presence;
}
