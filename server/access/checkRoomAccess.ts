import type { Directory } from '../storage/Directory.ts';
import type { CloseCodeName } from '../../shared/protocol/closeCodes.ts';
import type { ChatMemberRole } from '../../shared/models/chatMember.ts';
import { RoomIdSchema } from '../../shared/ids.ts';
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

/** Only active members of an active room may open its document. */
export function checkRoomAccess(directory: Directory, roomId: string, userId: string): AccessDecision {
  if (!RoomIdSchema.safeParse(roomId).success) return { ok: false, close: 'RoomNotFound', code: 'not_found', reason: 'room id is not a uuid' };
  const room = directory.rooms.get(roomId);
  if (!room) return { ok: false, close: 'RoomNotFound', code: 'not_found', reason: 'no such room' };
  if (!room.is_active) return { ok: false, close: 'Forbidden', code: 'room_inactive', reason: 'room is inactive' };
  const member = directory.members.get(roomId, userId);
  if (!member || !member.is_active) return { ok: false, close: 'Forbidden', code: 'not_a_member', reason: 'not a member of this room' };
  return { ok: true, role: member.role };
}
