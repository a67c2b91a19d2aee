import { z } from 'zod';
import { UuidSchema } from '../ids.ts';

/*
 * Attachments (docs/attachments.md). The bytes live in the server's blob store; a message holds
 * only references to them (AttachmentRef, in the room document), and the API shows each as an
 * Attachment (snake_case, with its URLs). Stream Chat's name for the list is `attachments`.
 */

/** Most attachments one message may carry. */
export const MAX_ATTACHMENTS_PER_MESSAGE = 10;
/** Longest file name kept, in UTF-16 code units (longer names are cut by the server on upload). */
export const MAX_ATTACHMENT_NAME_LENGTH = 255;

/** Attachment ids are UUIDv7s minted by the server on upload. */
export const AttachmentIdSchema = UuidSchema;

export const AttachmentNameSchema = z
  .string()
  .min(1)
  .max(MAX_ATTACHMENT_NAME_LENGTH)
  .refine((s) => !/[\u0000-\u001f\u007f/\\]/.test(s), 'a file name has no control characters and no slashes');

/** A MIME type as the server sniffed it from the bytes (`type/subtype`, lowercase, no parameters). */
export const MimeTypeSchema = z.string().regex(/^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/, 'a MIME type is type/subtype');

const Dimension = z.int().positive().max(100_000);

/**
 * An attachment as a message value stores it (layout.ts, `attachments`). Everything in it is what
 * the server recorded on upload: the validator refuses a reference that differs from the record,
 * names another room's upload, or someone else's.
 */
export const AttachmentRefSchema = z.strictObject({
  id: AttachmentIdSchema,
  name: AttachmentNameSchema,
  mimeType: MimeTypeSchema,
  size: z.int().nonnegative(),
  /** Images only: pixel size of the original, and the server has a thumbnail of it. */
  width: Dimension.optional(),
  height: Dimension.optional(),
});
export type AttachmentRef = z.infer<typeof AttachmentRefSchema>;

export const AttachmentRefsSchema = z
  .array(AttachmentRefSchema)
  .min(1)
  .max(MAX_ATTACHMENTS_PER_MESSAGE)
  .refine((refs) => new Set(refs.map((r) => r.id)).size === refs.length, 'a message names each attachment once');

/** An attachment in API responses: the upload's answer, and each entry of a message's `attachments`. */
export const AttachmentSchema = z.object({
  id: AttachmentIdSchema,
  /** Path of the bytes on the server, relative to its origin: `/api/rooms/<roomId>/attachments/<id>`. */
  url: z.string(),
  /** Path of a JPEG/PNG thumbnail at most 480 px on its longer side, for images; else null. */
  thumbnail_url: z.string().nullable(),
  name: AttachmentNameSchema,
  mime_type: MimeTypeSchema,
  size: z.int().nonnegative(),
  width: Dimension.nullable(),
  height: Dimension.nullable(),
});
export type Attachment = z.infer<typeof AttachmentSchema>;

/** How a sender names attachments it uploaded (send_message, ChatMessageCreate): by id; the server fills in the rest. */
export const AttachmentInputSchema = z.object({ id: AttachmentIdSchema });

export const attachmentUrl = (roomId: string, attachmentId: string): string =>
  `/api/rooms/${encodeURIComponent(roomId)}/attachments/${encodeURIComponent(attachmentId)}`;

export const thumbnailUrl = (roomId: string, attachmentId: string): string => `${attachmentUrl(roomId, attachmentId)}/thumbnail`;

/** The API's view of a stored reference. */
export function toAttachment(roomId: string, ref: AttachmentRef): Attachment {
  const image = ref.width !== undefined && ref.height !== undefined;
  return {
    id: ref.id,
    url: attachmentUrl(roomId, ref.id),
    thumbnail_url: image ? thumbnailUrl(roomId, ref.id) : null,
    name: ref.name,
    mime_type: ref.mimeType,
    size: ref.size,
    width: ref.width ?? null,
    height: ref.height ?? null,
  };
}

/** The reference a message stores for an uploaded attachment. */
export function toAttachmentRef(attachment: Attachment): AttachmentRef {
  return {
    id: attachment.id,
    name: attachment.name,
    mimeType: attachment.mime_type,
    size: attachment.size,
    ...(attachment.width === null ? {} : { width: attachment.width }),
    ...(attachment.height === null ? {} : { height: attachment.height }),
  };
}
