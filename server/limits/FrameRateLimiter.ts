import { TokenBucket, type Clock } from './TokenBucket.ts';
import type { SyncLimits } from './SyncLimits.ts';
import { MessageType } from '../../shared/protocol/messageTypes.ts';

/** Which bucket a frame spends from. */
export type FrameKind = 'sync' | 'awareness';

/**
 * Sync frames (type 0) spend from one bucket, every other frame (awareness, query-awareness, and
 * anything malformed, which closes the connection anyway) from the other. The first byte is the
 * message type: every type the protocol knows is below 128, so it is a one-byte varUint.
 */
export const frameKind = (frame: Uint8Array): FrameKind => (frame[0] === MessageType.Sync ? 'sync' : 'awareness');

/** One connection's two token buckets. */
export class FrameRateLimiter {
  readonly #sync: TokenBucket;
  readonly #awareness: TokenBucket;

  constructor(limits: Pick<SyncLimits, 'syncBurst' | 'syncPerSecond' | 'awarenessBurst' | 'awarenessPerSecond'>, now?: Clock) {
    this.#sync = new TokenBucket({ capacity: limits.syncBurst, refillPerSecond: limits.syncPerSecond, now });
    this.#awareness = new TokenBucket({ capacity: limits.awarenessBurst, refillPerSecond: limits.awarenessPerSecond, now });
  }

  /** Spends a token for the frame: null when admitted, else the kind whose bucket is empty. */
  admit(frame: Uint8Array): FrameKind | null {
    const kind = frameKind(frame);
    const bucket = kind === 'sync' ? this.#sync : this.#awareness;
    return bucket.take() ? null : kind;
  }
}
