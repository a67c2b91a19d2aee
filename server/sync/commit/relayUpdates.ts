import { encodeFrame } from '../../../shared/protocol/frames.ts';
import type { CommittedBatch } from './CommittedBatch.ts';

/** Sends every committed update to the room's other peers, never back to the one that sent it. */
export function relayUpdates({ room, updates }: CommittedBatch): void {
  for (const { update, origin } of updates) {
    const frame = encodeFrame({ type: 'update', update });
    for (const peer of room.peers()) if (peer !== origin) peer.send(frame);
  }
}
