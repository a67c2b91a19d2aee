import type { Context } from 'hono';
import { RoomIdSchema } from '../../shared/ids.ts';
import { ParleyError } from '../../shared/errors/errorCodes.ts';
import { isManagerRole, type ChatMemberInDB } from '../../shared/models/chatMember.ts';
import type { ChatRoomInDB } from '../../shared/models/chatRoom.ts';
import type { Directory } from '../storage/Directory.ts';
import { parsePathParam } from './parseRequest.ts';

/** The room of a request and the caller's active membership in it. */
export interface RoomContext {
  room: ChatRoomInDB;
  member: ChatMemberInDB;
}

/** `:roomId` of the path (404 when malformed). */
export const roomIdParam = (c: Context): string => parsePathParam(c, 'roomId', RoomIdSchema, 'room');

/**
 * Everything under /api/rooms/:roomId is for active members only: 404 `not_found` for an
 * unknown room, 403 `not_a_member` for anyone else (former members included).
 */
export function requireActiveMember(directory: Directory, roomId: string, userId: string): RoomContext {
  const room = directory.rooms.get(roomId);
  if (!room) throw new ParleyError('not_found', 'no such room');
  const member = directory.members.get(roomId, userId);
  if (!member?.is_active) throw new ParleyError('not_a_member', 'not an active member of this room');
  return { room, member };
}

/** Room settings and membership are managed by owners and admins (403 `forbidden` otherwise). */
export function requireManager(context: RoomContext): void {
  if (!isManagerRole(context.member.role)) throw new ParleyError('forbidden', 'only an owner or admin may do this');
}
