import type { UserPresence } from '../../shared/models/userPresence.ts';
import type { StoredPresence } from '../storage/PresenceRepo.ts';
import type { ApiDeps } from './ApiDeps.ts';

/** A UserPresence: online from the in-memory tracker, last seen and status from storage. */
export function presenceOf(deps: ApiDeps, userId: string, stored: StoredPresence): UserPresence {
  return { user_id: userId, is_online: deps.presence.isOnline(userId), last_seen_at: stored.last_seen_at, status: stored.status };
}
