import type { ApiDeps } from './ApiDeps.ts';

/**
 * Tells the sync layer about committed access changes. Its failure must not turn a committed
 * change into an error response (the client would retry something that already happened), so
 * it is logged loudly instead: a removed member may still hold a connection.
 */
export function notifyMembership(deps: ApiDeps, roomId: string, userIds: readonly string[]): void {
  for (const userId of userIds) {
    try {
      deps.access.membershipChanged(roomId, userId);
    } catch (err) {
      deps.logger.error({ err, roomId, userId }, 'access.membershipChanged failed');
    }
  }
}

export function notifyRoom(deps: ApiDeps, roomId: string): void {
  try {
    deps.access.roomChanged(roomId);
  } catch (err) {
    deps.logger.error({ err, roomId }, 'access.roomChanged failed');
  }
}

/** The caller changed their own setting of a room (its mute): their other devices follow. */
export function notifySettings(deps: ApiDeps, roomId: string, userId: string): void {
  try {
    deps.access.memberSettingsChanged?.(roomId, userId);
  } catch (err) {
    deps.logger.error({ err, roomId, userId }, 'access.memberSettingsChanged failed');
  }
}
