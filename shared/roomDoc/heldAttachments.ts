import type { AttachmentRef } from '../models/attachment.ts';
import { isTombstone, parseMessageEntry, type RoomMaps } from './layout.ts';

/**
 * The attachments message `id` of a document holds: none once it is deleted (a tombstone or a
 * deletion record) or when its value does not parse. What attachment reference tracking counts,
 * whether the document is loaded (AttachmentTracker) or read from storage (storedAttachmentRefs).
 */
export function heldAttachments({ messages, deletions }: RoomMaps, id: string): readonly AttachmentRef[] {
  if (deletions.has(id)) return [];
  const value = parseMessageEntry(id, messages.get(id));
  return value === null || isTombstone(value) ? [] : (value.attachments ?? []);
}
