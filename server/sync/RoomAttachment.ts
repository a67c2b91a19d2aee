import type { Logger } from '../log.ts';
import { FrameRateLimiter } from '../limits/FrameRateLimiter.ts';
import type { SyncLimits } from '../limits/SyncLimits.ts';
import type { Room } from './Room.ts';
import type { RoomPeer } from './RoomPeer.ts';
import type { RoomRegistry } from './RoomRegistry.ts';

export interface RoomAttachmentDeps {
  registry: RoomRegistry;
  logger: Logger;
  limits: SyncLimits;
}

/**
 * One peer in one room, however it arrived (a socket on /sync/<roomId>, or a channel of a
 * multiplexed socket): opens the room (a big one loads in slices, and frames wait here in
 * order until it is ready), holds the peer to its frame rate limit, hands each frame to the
 * room, and leaves the room when detached.
 */
export class RoomAttachment {
  readonly #peer: RoomPeer;
  readonly #roomId: string;
  readonly #deps: RoomAttachmentDeps;
  readonly #rate: FrameRateLimiter;
  #room: Room | null;
  readonly #waiting: Uint8Array[] = [];
  #detached = false;

  constructor(peer: RoomPeer, roomId: string, deps: RoomAttachmentDeps) {
    this.#peer = peer;
    this.#roomId = roomId;
    this.#deps = deps;
    this.#rate = new FrameRateLimiter(deps.limits);
    const opening = deps.registry.openReady(roomId);
    this.#room = opening instanceof Promise ? null : opening;
    if (this.#room) this.#join(this.#room);
    else
      void (opening as Promise<Room>).then(
        (room) => this.#join(room),
        (err: unknown) => {
          deps.logger.error({ err, room: roomId, user: peer.user.id }, 'room failed to load');
          peer.close('InternalError', 'internal error');
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
    const room = this.#room;
    if (!room) return;
    room.leave(this.#peer);
    this.#deps.registry.released(room);
  }

  #handle(frame: Uint8Array): void {
    const room = this.#room;
    if (!room) return void this.#waiting.push(frame);
    try {
      room.receive(this.#peer, frame);
    } catch (err) {
      this.#deps.logger.error({ err, room: this.#roomId, user: this.#peer.user.id }, 'sync frame handler failed');
      this.#peer.close('InternalError', 'internal error');
    }
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
    for (const frame of this.#waiting.splice(0)) this.#handle(frame);
  }
}
