import type { Context } from 'hono';
import { RoomIdSchema } from '../../shared/ids.ts';
import { ParleyError } from '../../shared/errors/errorCodes.ts';
import { isManagerRole, type ChatMemberInDB } from '../../shared/models/chatMember.ts';
import type { ChatRoomInDB } from '../../shared/models/chatRoom.ts';
import type { DirectoryApi } from '../storage/DirectoryApi.ts';
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
export async function requireActiveMember(directory: DirectoryApi, roomId: string, userId: string): Promise<RoomContext> {
  return activeMemberOf(directory, await directory.rooms.get(roomId), roomId, userId);
}

/**
 * requireActiveMember inside a transaction that goes on to change the room or its membership:
 * the room is read with `lockRoom`, so that such check-then-write transactions of one room take
 * turns across nodes (PostgreSQL's READ COMMITTED lets them interleave otherwise; SQLite's
 * BEGIN IMMEDIATE serializes them already). Same answers as requireActiveMember.
 */
export async function lockActiveMember(tx: DirectoryApi, roomId: string, userId: string): Promise<RoomContext> {
  return activeMemberOf(tx, await tx.lockRoom(roomId), roomId, userId);
}

async function activeMemberOf(directory: DirectoryApi, room: ChatRoomInDB | null, roomId: string, userId: string): Promise<RoomContext> {
  if (!room) throw new ParleyError('not_found', 'no such room');
  const member = await directory.members.get(roomId, userId);
  if (!member?.is_active) throw new ParleyError('not_a_member', 'not an active member of this room');
  return { room, member };
}

/** Room settings and membership are managed by owners and admins (403 `forbidden` otherwise). */
export function requireManager(context: RoomContext): void {
  if (!isManagerRole(context.member.role)) throw new ParleyError('forbidden', 'only an owner or admin may do this');
}
