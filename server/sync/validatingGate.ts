import { parseDocName } from '../../shared/roomDoc/segments.ts';
import type { RoomMemberships } from '../access/RoomMemberships.ts';
import type { UploadedAttachment } from '../validation/judgeAttachments.ts';
import { validateUpdate } from '../validation/validateUpdate.ts';
import type { UpdateGate } from './Room.ts';

/**
 * The sync path's gate: every incoming update goes through the write-permission validator
 * against the room's current document, as the connection's user. Memberships (the sender's role,
 * since when they are a member, whether a mentioned user is one) come from the room's memberships
 * in memory (RoomMemberships, loaded before a peer joins and kept current on every change).
 * `uploadedAttachment` finds the record of an attachment a new message names (its uploader, its
 * room), synchronously.
 */
export function createValidatingGate(
  memberships: RoomMemberships,
  uploadedAttachment: (roomId: string, id: string) => UploadedAttachment | null,
  clock: () => number = Date.now,
): UpdateGate {
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
        role: () => memberships.activeRole(roomId, conn.user.id) ?? 'member',
        memberSince: () => memberships.memberSince(roomId, conn.user.id),
        isActiveMember: (userId) => memberships.activeRole(roomId, userId) !== null,
        uploadedAttachment: (id) => uploadedAttachment(roomId, id),
      },
      owners: room.clientOwners,
      now: clock(),
      isSegment: ref !== null && ref.segment !== null,
    });
  };
}
