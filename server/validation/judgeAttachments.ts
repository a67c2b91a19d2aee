import type { AttachmentRef } from '../../shared/models/attachment.ts';
import { type MessageValue, isTombstone } from '../../shared/roomDoc/layout.ts';
import { Refused } from './Refused.ts';

/** An upload as the server recorded it (docs/attachments.md): who sent it, and the reference a message must carry. */
export interface UploadedAttachment {
  readonly uploaderId: string;
  readonly ref: AttachmentRef;
}

/** What the attachment rule needs of the room: the upload with this id to this room, or null. */
export interface AttachmentLookup {
  readonly userId: string;
  uploadedAttachment(id: string): UploadedAttachment | null;
}

const sameRef = (a: AttachmentRef, b: AttachmentRef): boolean =>
  a.id === b.id && a.name === b.name && a.mimeType === b.mimeType && a.size === b.size && a.width === b.width && a.height === b.height;

const sameRefs = (a: readonly AttachmentRef[] | undefined, b: readonly AttachmentRef[] | undefined): boolean =>
  (a?.length ?? 0) === (b?.length ?? 0) && (a ?? []).every((ref, i) => sameRef(ref, b![i]!));

/**
 * A message's `attachments` (docs/protocol.md, "Attachments"). A new message may name only
 * uploads to this room by its sender, each exactly as recorded (name, type, size, dimensions): a
 * forged reference (another room's file, someone else's, a size that lies) is refused. An edit
 * keeps them unchanged; a tombstone (a deletion) drops them, and that stays allowed.
 */
export function judgeAttachments(ctx: AttachmentLookup, next: MessageValue, existing: MessageValue | null): void {
  if (existing !== null) {
    if (!isTombstone(next) && !sameRefs(existing.attachments, next.attachments)) {
      throw new Refused('bad_attachment', `an edit of message ${next.id} must keep its attachments as they are`);
    }
    return;
  }
  for (const ref of next.attachments ?? []) {
    const upload = ctx.uploadedAttachment(ref.id);
    if (upload === null) throw new Refused('bad_attachment', `message ${next.id} names attachment ${ref.id}, which is not an upload to this room`);
    if (upload.uploaderId !== ctx.userId) throw new Refused('bad_attachment', `message ${next.id} names attachment ${ref.id}, which someone else uploaded`);
    if (!sameRef(ref, upload.ref)) throw new Refused('bad_attachment', `message ${next.id}: attachment ${ref.id} differs from its upload (name, type, size or dimensions)`);
  }
}
