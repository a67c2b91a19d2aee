import type { Logger } from '../log.ts';
import { FrameRateLimiter } from '../limits/FrameRateLimiter.ts';
import type { SyncLimits } from '../limits/SyncLimits.ts';
import type { Room } from './Room.ts';
import type { RoomPeer } from './RoomPeer.ts';
import type { RoomRegistry } from './RoomRegistry.ts';
import type { StoredDoc, StoredDocs } from './StoredDocs.ts';
import { encodeFrame } from '../../shared/protocol/frames.ts';

export interface RoomAttachmentDeps {
  registry: RoomRegistry;
  logger: Logger;
  limits: SyncLimits;
  /** Documents served from storage (sealed segments); none: every document is loaded to be read. */
  storedSegments?: StoredDocs;
  /**
   * What a frame needs read before the room sees it (the upload records its messages name, when
   * the directory answers asynchronously: UploadRecords); null: nothing. The peer's later frames
   * wait behind it, in order.
   */
  prefetch?: (frame: Uint8Array) => Promise<void> | null;
}

/**
 * One peer in one room, however it arrived (a socket on /sync/<roomId>, or a channel of a
 * multiplexed socket): opens the room (a big one loads in slices, and frames wait here in
 * order until it is ready), holds the peer to its frame rate limit, hands each frame to the
 * room, and leaves the room when detached. A sealed segment is read from storage instead
 * (StoredDocs) until the peer sends what needs the document (a write): then it is loaded and
 * joined, and that frame and those after it go to it.
 */
export class RoomAttachment {
  readonly #peer: RoomPeer;
  readonly #roomId: string;
  readonly #deps: RoomAttachmentDeps;
  readonly #rate: FrameRateLimiter;
  #room: Room | null = null;
  #stored: StoredDoc | null = null;
  /** A peer that moved from a stored segment: the state vector it holds, asked of the room once joined. */
  #catchUpFrom: Uint8Array | null = null;
  readonly #waiting: Uint8Array[] = [];
  #detached = false;
  /** A frame's prefetch is under way: frames wait in #waiting, in order. */
  #prefetching = false;
  readonly #prefetched = new WeakSet<Uint8Array>();
  readonly #joined: () => void;
  #joinedOnce = false;

  /**
   * `joined`: called once the peer is where a membership recheck finds it (joined to the loaded
   * room, or reading a stored segment), so a recheck that began after its admission but could
   * not see it yet is run again then (SyncServer).
   */
  constructor(peer: RoomPeer, roomId: string, deps: RoomAttachmentDeps, joined: () => void = () => {}) {
    this.#peer = peer;
    this.#roomId = roomId;
    this.#deps = deps;
    this.#joined = joined;
    this.#rate = new FrameRateLimiter(deps.limits);
    const stored = deps.storedSegments;
    if (stored?.serves(roomId)) {
      this.#stored = stored.join(peer, roomId);
      this.#joinedOnce = true;
      joined();
    } else this.#open();
  }

  #open(): void {
    const { registry, logger } = this.#deps;
    const opening = registry.openReady(this.#roomId);
    if (!(opening instanceof Promise)) return this.#join(opening);
    void opening.then(
      (room) => this.#join(room),
      (err: unknown) => {
        logger.error({ err, room: this.#roomId, user: this.#peer.user.id }, 'room failed to load');
        this.#peer.close('InternalError', 'internal error');
      },
    );
  }

  /** One frame from the peer: rate-limited, then handled (or kept until the room is ready). */
  receive(frame: Uint8Array): void {
    const peer = this.#peer;
    if (peer.closed || this.#detached) return;
    const exhausted = this.#rate.admit(frame);
    if (exhausted) {
      const { limits, logger } = this.#deps;
      const [burst, perSecond] = exhausted === 'sync' ? [limits.syncBurst, limits.syncPerSecond] : [limits.awarenessBurst, limits.awarenessPerSecond];
      logger.warn({ room: this.#roomId, user: peer.user.id, conn: peer.id, frames: exhausted, burst, perSecond }, 'sync connection rate limited');
      return peer.close('RateLimited', `more than ${burst} ${exhausted} frames in a burst or ${perSecond} per second`);
    }
    this.#handle(frame);
  }

  /** The peer is gone: it leaves the room, which may then idle out. Idempotent. */
  detach(): void {
    if (this.#detached) return;
    this.#detached = true;
    this.#leaveStored();
    const room = this.#room;
    if (!room) return;
    room.leave(this.#peer);
    this.#deps.registry.released(room);
  }

  #handle(frame: Uint8Array): void {
    const room = this.#room;
    if (this.#prefetching) return void this.#waiting.push(frame);
    // Once per frame: what it names and cannot be read (no such upload) is the validator's to refuse.
    const prefetch = this.#deps.prefetch && !this.#prefetched.has(frame) ? this.#deps.prefetch(frame) : null;
    if (prefetch) {
      this.#prefetching = true;
      this.#prefetched.add(frame);
      this.#waiting.unshift(frame);
      void prefetch
        .catch((err: unknown) => this.#deps.logger.warn({ err, room: this.#roomId }, 'prefetch before a frame failed; the validator decides without it'))
        .then(() => {
          this.#prefetching = false;
          // Unless the room is still loading (its join hands them on), the frames that waited go now, in order.
          if (this.#room || this.#stored) this.#drain();
        });
      return;
    }
    try {
      if (this.#stored) {
        if (this.#stored.receive(this.#peer, frame) === 'handled') return;
        // A write (or awareness): the document is loaded and joined, and gets this frame first.
        this.#leaveStored();
        // First of those waiting (it may come from them: #drain took it off the front).
        this.#waiting.unshift(frame);
        return this.#open();
      }
      if (!room) return void this.#waiting.push(frame);
      room.receive(this.#peer, frame);
    } catch (err) {
      this.#deps.logger.error({ err, room: this.#roomId, user: this.#peer.user.id }, 'sync frame handler failed');
      this.#peer.close('InternalError', 'internal error');
    }
  }

  #leaveStored(): void {
    const stored = this.#stored;
    this.#stored = null;
    if (stored) this.#catchUpFrom = this.#deps.storedSegments?.leave(this.#peer, stored) ?? null;
  }

  #join(room: Room): void {
    this.#room = room;
    if (this.#detached || this.#peer.closed) {
      // Gone while the room loaded: it never joined, but the room may now idle out.
      this.#detached = true;
      this.#deps.registry.released(room);
      return;
    }
    room.join(this.#peer);
    this.#deps.logger.debug({ room: this.#roomId, user: this.#peer.user.id, conn: this.#peer.id }, 'sync connection opened');
    // Once: a peer that moved here from a stored segment was findable there already.
    if (!this.#joinedOnce) this.#joined();
    this.#joinedOnce = true;
    // From a stored segment: what changed since what it was sent (a change committed while it
    // moved here reached neither way), answered as its own step 1 would be.
    const from = this.#catchUpFrom;
    this.#catchUpFrom = null;
    if (from) this.#waiting.unshift(encodeFrame({ type: 'syncStep1', stateVector: from }));
    this.#drain();
  }

  /**
   * Hands the waiting frames on in order, until one has to wait for its prefetch (it comes back
   * here) or for the room's load (a write that left a stored segment: the join comes back here).
   */
  #drain(): void {
    while (this.#waiting.length > 0 && (this.#room !== null || this.#stored !== null) && !this.#prefetching && !this.#detached && !this.#peer.closed) {
      const frame = this.#waiting.shift() as Uint8Array;
      this.#handle(frame);
    }
  }
}
