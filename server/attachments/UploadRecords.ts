import type { DirectoryApi } from '../storage/DirectoryApi.ts';
import { refOf } from '../storage/AttachmentRepo.ts';
import type { UploadedAttachment } from '../validation/judgeAttachments.ts';
import { attachmentIdsIn, mayNameAttachments } from '../storage/attachmentIdsIn.ts';
import { decodeClientFrame } from '../../shared/protocol/frames.ts';

/** Upload records kept (the newest used); one is a few hundred bytes. */
const MAX_RECORDS = 10_000;

/**
 * The upload records the update validator reads synchronously (a new message's attachments must
 * be its sender's uploads to the room), when the directory answers asynchronously (PostgreSQL):
 * `prefetch` reads the records an update names before the room sees it (RoomAttachment waits for
 * it, and that peer's later frames wait behind it, so its writes keep their order); `get` answers
 * from what was read. A record never changes once written, so a kept one is never stale; one
 * deleted meanwhile (its grace period over) is refused by the write that would have used it anyway
 * (attachments are checked again when the blob is fetched).
 */
export class UploadRecords {
  readonly #directory: DirectoryApi;
  readonly #records = new Map<string, { roomId: string; upload: UploadedAttachment }>();

  constructor(directory: DirectoryApi) {
    this.#directory = directory;
  }

  /** The upload `id` to room `roomId` as read, or null (not read, not an upload, another room's). */
  get(roomId: string, id: string): UploadedAttachment | null {
    const record = this.#records.get(id);
    if (!record || record.roomId !== roomId) return null;
    // Used again: the newest in the map's order.
    this.#records.delete(id);
    this.#records.set(id, record);
    return record.upload;
  }

  /** Null when the frame names no upload not yet read; else resolves once those are read. */
  prefetch(frame: Uint8Array): Promise<void> | null {
    // Most frames name no attachment: the key's bytes are absent, and nothing is decoded.
    if (!mayNameAttachments(frame)) return null;
    const decoded = decodeClientFrame(frame);
    if (!decoded.ok) return null;
    const f = decoded.frame;
    if (f.type !== 'update' && f.type !== 'syncStep2') return null;
    // Ids come from the client's update: only well-formed ones (attachmentIdsIn) are looked up.
    const missing = attachmentIdsIn(f.update).filter((id) => !this.#records.has(id));
    return missing.length === 0 ? null : this.#read(missing);
  }

  /** Forgets records found gone (a commit naming them was refused): the next frame naming them reads them again. */
  forget(ids: readonly string[]): void {
    for (const id of ids) this.#records.delete(id);
  }

  async #read(ids: readonly string[]): Promise<void> {
    for (const id of ids) {
      const record = await this.#directory.attachments.get(id);
      if (!record) continue;
      this.#records.set(id, { roomId: record.roomId, upload: { uploaderId: record.uploaderId, ref: refOf(record) } });
      if (this.#records.size > MAX_RECORDS) this.#records.delete(this.#records.keys().next().value ?? id);
    }
  }
}
