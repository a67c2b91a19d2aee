import type { UserRateLimiter } from '../limits/UserRateLimiter.ts';
import type { UpdateRefusal } from '../../shared/protocol/updateRefusals.ts';
import type { Growth } from '../validation/validateUpdate.ts';

/** Writes that add content but create no message (edits, reactions, read positions) may pass maxDocBytes by 10 %. */
const CLEANUP_GRACE = 1.1;

export type SizeRefusal = UpdateRefusal & { code: 'document_too_large' | 'member_quota' };

/**
 * A room's stored size as its limits see it, and what may still be added: the snapshot and log as
 * loaded, plus every update applied since (counted when applied, so a burst within one turn meets
 * the limit too), re-measured by each compaction. No member can fill a room alone: each adds at
 * most their growth share (a token bucket of bytes per room and member, `memberGrowth`).
 */
export class RoomSize {
  readonly #roomId: string;
  readonly maxDocBytes: number;
  readonly #memberGrowth: UserRateLimiter | undefined;
  #storedBytes: number;
  /** A write was refused for the size and no new message fitted since: every write should ask for a compaction. */
  #full = false;

  constructor(roomId: string, storedBytes: number, opts: { maxDocBytes: number; memberGrowth?: UserRateLimiter | undefined }) {
    this.#roomId = roomId;
    this.#storedBytes = storedBytes;
    this.maxDocBytes = opts.maxDocBytes;
    this.#memberGrowth = opts.memberGrowth;
  }

  get storedBytes(): number {
    return this.#storedBytes;
  }

  /** Whether the room refused a write for its size and took no new message since. */
  get full(): boolean {
    return this.#full;
  }

  /**
   * Whether `userId` may add `bytes` (null) or the refusal: the stored size stays within
   * maxDocBytes (writes that create no message get CLEANUP_GRACE, deletions are never refused
   * for size), and the member stays within their growth share, spent when this answers null.
   */
  admit(userId: string, bytes: number, growth: Growth): SizeRefusal | null {
    const limit = this.maxDocBytes;
    if (growth !== 'none' && this.#storedBytes + bytes > limit * (growth === 'messages' ? 1 : CLEANUP_GRACE)) {
      this.#full = true;
      return { code: 'document_too_large', reason: `this room is full (${limit} bytes stored): an owner or admin can delete old messages to make room, and the server frees it within seconds` };
    }
    const wait = this.#memberGrowth?.take(`${this.#roomId}/${userId}`, bytes);
    if (wait) return { code: 'member_quota', reason: `you added more to this room lately than one member may; try again in ${wait.retryAfterSeconds} s` };
    if (growth === 'messages') this.#full = false;
    return null;
  }

  /** An update was applied. */
  added(bytes: number): void {
    this.#storedBytes += bytes;
  }

  /** A compaction finished: re-measured (deleted content is gone); updates since stay counted. */
  compacted(bytesBefore: number, bytesAfter: number): void {
    this.#storedBytes = Math.max(0, this.#storedBytes - bytesBefore + bytesAfter);
  }
}
