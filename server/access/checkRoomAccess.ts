import type { DirectoryApi } from '../storage/DirectoryApi.ts';
import type { CloseCodeName } from '../../shared/protocol/closeCodes.ts';
import type { ChatMemberRole } from '../../shared/models/chatMember.ts';
import { parseDocName } from '../../shared/roomDoc/segments.ts';
import type { ErrorCode } from '../../shared/errors/errorCodes.ts';

export type AccessDecision =
  | { ok: true; role: ChatMemberRole }
  | {
      ok: false;
      close: Extract<CloseCodeName, 'RoomNotFound' | 'Forbidden'>;
      /** The same refusal as an error code, for endpoints that answer rather than close (commands). */
      code: Extract<ErrorCode, 'not_found' | 'room_inactive' | 'not_a_member'>;
      reason: string;
    };

/**
 * Only active members of an active room may open its documents: the room's own (`<roomId>`, its
 * head once segmented) and its segments (`<roomId>:<n>`). Asynchronous (two reads of the
 * directory, on either backend): a caller that must keep an order across the check (a channel's
 * frames, a connection's commands) queues behind it itself.
 */
export async function checkRoomAccess(directory: DirectoryApi, docName: string, userId: string): Promise<AccessDecision> {
  const ref = parseDocName(docName);
  if (!ref) return { ok: false, close: 'RoomNotFound', code: 'not_found', reason: 'not a room id (a uuid, or a uuid and :segment number)' };
  const { roomId } = ref;
  const room = await directory.rooms.get(roomId);
  if (!room) return { ok: false, close: 'RoomNotFound', code: 'not_found', reason: 'no such room' };
  if (!room.is_active) return { ok: false, close: 'Forbidden', code: 'room_inactive', reason: 'room is inactive' };
  const member = await directory.members.get(roomId, userId);
  if (!member || !member.is_active) return { ok: false, close: 'Forbidden', code: 'not_a_member', reason: 'not a member of this room' };
  return { ok: true, role: member.role };
}
