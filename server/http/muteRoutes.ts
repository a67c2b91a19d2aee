import { Hono } from 'hono';
import { RoomMuteSchema, type ChatRoom } from '../../shared/models/chatRoom.ts';
import type { ApiDeps, ApiEnv } from './ApiDeps.ts';
import { notifySettings } from './notifyAccess.ts';
import { parseJsonBody } from './parseRequest.ts';
import { lockActiveMember, requireActiveMember, roomIdParam } from './roomAccess.ts';

/**
 * PUT /api/rooms/:roomId/mute `{ "muted": boolean }`: the caller mutes or unmutes a room for
 * themself, on every device (docs/notifications.md). Any active member, for their own membership
 * only: the path names no other user, so nobody can mute a room for someone else. Answers the room
 * as the caller's list shows it (`unread_count`, `muted`). Others never see who muted what.
 */
export function muteRoutes(deps: ApiDeps): Hono<ApiEnv> {
  const { directory } = deps;
  const now = deps.now ?? Date.now;
  const app = new Hono<ApiEnv>();

  app.put('/mute', async (c) => {
    const roomId = roomIdParam(c);
    const userId = c.var.user.id;
    await requireActiveMember(directory, roomId, userId);
    const { muted } = await parseJsonBody(c, RoomMuteSchema);
    const at = now();
    // The room is locked first (lockActiveMember): a removal on another node cannot slip in
    // between the check and the write. Only `tx` inside; the sync layer is told after the commit.
    const { room, changed } = await directory.transaction(async (tx) => {
      await lockActiveMember(tx, roomId, userId);
      const changed = await tx.members.setMuted(roomId, userId, muted, at);
      const summary = await tx.rooms.getSummary(roomId);
      // Existence was checked just before, in the same transaction.
      if (!summary) throw new Error(`room ${roomId} vanished`);
      return { room: { ...summary, ...(await tx.members.personal(roomId, userId)) }, changed };
    });
    if (changed) notifySettings(deps, roomId, userId);
    return c.json(room satisfies ChatRoom);
  });

  return app;
}
