import { Hono } from 'hono';
import { UserIdSchema } from '../../shared/ids.ts';
import { ParleyError } from '../../shared/errors/errorCodes.ts';
import {
  ChatMemberCreateSchema,
  ChatMemberListQuerySchema,
  ChatMemberUpdateSchema,
  type ChatMember,
  type ChatMemberList,
} from '../../shared/models/chatMember.ts';
import type { DirectoryApi } from '../storage/DirectoryApi.ts';
import type { ApiDeps, ApiEnv } from './ApiDeps.ts';
import { assertMayManageMembers, assertMemberChangeAllowed, type MemberState } from './memberRules.ts';
import { notifyMembership, notifyRoom } from './notifyAccess.ts';
import { parseJsonBody, parsePathParam, parseQuery } from './parseRequest.ts';
import { lockActiveMember, requireActiveMember, roomIdParam } from './roomAccess.ts';

/**
 * /api/rooms/:roomId/members and /api/rooms/:roomId/leave. Who may do what is memberRules;
 * every handler checks access before reading the body and again inside its transaction,
 * since membership may change while the body arrives. Each transaction locks the room first
 * (lockActiveMember), works only through its `tx`, and the sync layer is told after it commits
 * (on PostgreSQL the function may run twice).
 */
export function memberRoutes(deps: ApiDeps): Hono<ApiEnv> {
  const { directory } = deps;
  const now = deps.now ?? Date.now;
  const app = new Hono<ApiEnv>();

  app.get('/members', async (c) => {
    const roomId = roomIdParam(c);
    await requireActiveMember(directory, roomId, c.var.user.id);
    const { include_inactive } = parseQuery(c, ChatMemberListQuerySchema);
    return c.json({ members: await directory.members.list(roomId, { includeInactive: include_inactive }) } satisfies ChatMemberList);
  });

  /** Adds a member, or reactivates a former one (200 instead of 201); 409 when already active. */
  app.post('/members', async (c) => {
    const roomId = roomIdParam(c);
    const callerId = c.var.user.id;
    assertMayManageMembers(await requireActiveMember(directory, roomId, callerId));
    const input = await parseJsonBody(c, ChatMemberCreateSchema);
    if (!input.is_active) {
      throw new ParleyError('invalid_payload', 'adding a member makes them active', [
        { code: 'custom', path: ['is_active'], message: 'must be true (remove a member with DELETE)' },
      ]);
    }
    const at = now();
    const { member, created } = await directory.transaction(async (tx) => {
      const context = await lockActiveMember(tx, roomId, callerId);
      const before = await tx.members.get(roomId, input.user_id);
      if (before?.is_active) throw new ParleyError('conflict', 'already an active member', { user_id: input.user_id });
      const after: MemberState = { role: input.role, is_active: true };
      assertMemberChangeAllowed(context, before, after, await tx.members.countActiveOwners(roomId));
      if (before) await tx.members.update(roomId, input.user_id, after, at);
      else await tx.members.insert({ roomId, userId: input.user_id, role: input.role }, at);
      return { member: await memberView(tx, roomId, input.user_id), created: before === null };
    });
    notifyMembership(deps, roomId, [input.user_id]);
    return c.json(member satisfies ChatMember, created ? 201 : 200);
  });

  /**
   * Managers change role and is_active (memberRules); each member moves only their own
   * last_read_at, forward only (an older or null value leaves it as it is).
   */
  app.patch('/members/:userId', async (c) => {
    const roomId = roomIdParam(c);
    const targetId = parsePathParam(c, 'userId', UserIdSchema, 'member');
    const callerId = c.var.user.id;
    await requireActiveMember(directory, roomId, callerId);
    const patch = await parseJsonBody(c, ChatMemberUpdateSchema);
    const readAt = patch.last_read_at ?? null;
    if (readAt !== null && targetId !== callerId) {
      throw new ParleyError('forbidden', "only the member may move their own read position");
    }
    const at = now();
    const { member, changed } = await directory.transaction(async (tx) => {
      const context = await lockActiveMember(tx, roomId, callerId);
      const before = await tx.members.get(roomId, targetId);
      if (!before) throw new ParleyError('not_found', 'no such member');
      const after: MemberState = { role: patch.role ?? before.role, is_active: patch.is_active ?? before.is_active };
      const changed = after.role !== before.role || after.is_active !== before.is_active;
      if (changed) {
        assertMemberChangeAllowed(context, before, after, await tx.members.countActiveOwners(roomId));
        await tx.members.update(roomId, targetId, after, at);
      }
      if (readAt !== null) await tx.members.setLastReadAt(roomId, targetId, Date.parse(readAt), at);
      return { member: await memberView(tx, roomId, targetId), changed };
    });
    if (changed) notifyMembership(deps, roomId, [targetId]);
    return c.json(member satisfies ChatMember);
  });

  /** Deactivates a member (the row stays: history keeps its sender). Already inactive: 204, nothing told. */
  app.delete('/members/:userId', async (c) => {
    const roomId = roomIdParam(c);
    const targetId = parsePathParam(c, 'userId', UserIdSchema, 'member');
    const callerId = c.var.user.id;
    const at = now();
    const changed = await directory.transaction(async (tx) => {
      const context = await lockActiveMember(tx, roomId, callerId);
      assertMayManageMembers(context);
      const before = await tx.members.get(roomId, targetId);
      if (!before) throw new ParleyError('not_found', 'no such member');
      if (!before.is_active) return false;
      const after: MemberState = { role: before.role, is_active: false };
      assertMemberChangeAllowed(context, before, after, await tx.members.countActiveOwners(roomId));
      await tx.members.update(roomId, targetId, after, at);
      return true;
    });
    if (changed) notifyMembership(deps, roomId, [targetId]);
    return c.body(null, 204);
  });

  /** The caller leaves; see Directory.leaveRoom for the owner hand-over and the last one out. */
  app.post('/leave', async (c) => {
    const roomId = roomIdParam(c);
    const callerId = c.var.user.id;
    const outcome = await directory.leaveRoom(roomId, callerId, now());
    notifyMembership(deps, roomId, outcome.newOwnerId === null ? [callerId] : [callerId, outcome.newOwnerId]);
    if (outcome.roomDeactivated) notifyRoom(deps, roomId);
    return c.body(null, 204);
  });

  return app;
}

async function memberView(tx: DirectoryApi, roomId: string, userId: string): Promise<ChatMember> {
  const member = await tx.members.getWithUser(roomId, userId);
  // Written a moment ago in the same transaction.
  if (!member) throw new Error(`member ${userId} of room ${roomId} vanished`);
  return member;
}
