import { parseDocName } from '../../shared/roomDoc/segments.ts';
import type { Directory } from '../storage/Directory.ts';
import { validateUpdate } from '../validation/validateUpdate.ts';
import { refOf } from '../storage/AttachmentRepo.ts';
import type { UpdateGate } from './Room.ts';

/**
 * The sync path's gate: every incoming update goes through the write-permission validator
 * against the room's current document, as the connection's user. The role is read from the
 * directory only when a rule needs it (deleting someone else's message), so a role changed over
 * REST applies to the very next update.
 */
export function createValidatingGate(directory: Directory, clock: () => number = Date.now): UpdateGate {
  return (room, conn, update) => {
    // A segment's document is named `<roomId>:<n>`; membership is the room's.
    const ref = parseDocName(room.roomId);
    const roomId = ref?.roomId ?? room.roomId;
    return validateUpdate({
      doc: room.doc,
      update,
      sender: {
        userId: conn.user.id,
        // Membership was checked when the socket opened and is rechecked on every change; a
        // member removed mid-flight has no role left, and "member" grants no one else's rights.
        role: () => directory.members.activeRole(roomId, conn.user.id) ?? 'member',
        memberSince: () => directory.members.memberSince(roomId, conn.user.id),
        isActiveMember: (userId) => directory.members.activeRole(roomId, userId) !== null,
        // A synchronous lookup by primary key, made only for a new message that names attachments.
        uploadedAttachment: (id) => {
          const record = directory.attachments.get(id);
          return record && record.roomId === roomId ? { uploaderId: record.uploaderId, ref: refOf(record) } : null;
        },
      },
      owners: room.clientOwners,
      now: clock(),
      isSegment: ref !== null && ref.segment !== null,
    });
  };
}
