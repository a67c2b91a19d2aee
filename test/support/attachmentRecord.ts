import { uuidv4, uuidv7 } from '../../shared/ids.ts';
import type { AttachmentRecord } from '../../server/storage/AttachmentRepo.ts';

/** The record of a one-byte text upload to `roomId` by `uploaderId` (its bytes are not stored anywhere: for tests of records and references). */
export function attachmentRecord(roomId: string, uploaderId: string): AttachmentRecord {
  return {
    id: uuidv7(),
    roomId,
    uploaderId,
    blobKey: uuidv4(),
    name: 'a.txt',
    mimeType: 'text/plain',
    size: 1,
    width: null,
    height: null,
    thumbnailKey: null,
    thumbnailType: null,
    createdAt: 0,
  };
}
