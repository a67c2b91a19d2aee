import { ParleyError } from '../../shared/errors/errorCodes.ts';
import { isManagerRole, type ChatMemberRole } from '../../shared/models/chatMember.ts';
import type { RoomContext } from './roomAccess.ts';

/**
 * Who may change whose membership. One place for the rules of POST, PATCH and DELETE on
 * members, each of which is a transition of the target from `before` to `after`:
 * - direct rooms have a fixed pair of members: nobody adds, removes or re-roles (403);
 * - owners and admins manage members; admins only plain members: granting, revoking or
 *   touching the owner and admin roles takes an owner (403);
 * - a room keeps at least one active owner (409).
 */

export interface MemberState {
  role: ChatMemberRole;
  is_active: boolean;
}

/** The caller may manage this room's members at all (before looking at the target). */
export function assertMayManageMembers(context: RoomContext): void {
  if (context.room.type === 'direct') {
    throw new ParleyError('forbidden', 'a direct room has a fixed pair of members');
  }
  if (!isManagerRole(context.member.role)) {
    throw new ParleyError('forbidden', 'only an owner or admin may manage members');
  }
}

/**
 * The caller may move the target from `before` (null: never a member) to `after`.
 * `activeOwners` counts the room's active owners before the change.
 */
export function assertMemberChangeAllowed(
  context: RoomContext,
  before: MemberState | null,
  after: MemberState,
  activeOwners: number,
): void {
  assertMayManageMembers(context);
  // A former member's old role is history: re-adding an ex-admin as a member grants nothing.
  const currentRole = before?.is_active ? before.role : null;
  const touchesManagers = (currentRole !== null && isManagerRole(currentRole)) || isManagerRole(after.role);
  if (touchesManagers && context.member.role !== 'owner') {
    throw new ParleyError('forbidden', 'only an owner may grant, revoke or manage the owner and admin roles');
  }
  const losesAnOwner = currentRole === 'owner' && !(after.is_active && after.role === 'owner');
  if (losesAnOwner && activeOwners <= 1) {
    throw new ParleyError('conflict', 'a room must keep at least one owner: make someone else owner first');
  }
}
