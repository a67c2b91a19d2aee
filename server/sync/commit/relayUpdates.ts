import { encodeFrame } from '../../../shared/protocol/frames.ts';
import type { CommittedBatch, CommittedUpdate } from './CommittedBatch.ts';
import type { RoomPeer } from '../RoomPeer.ts';

/** Sends every committed update to the room's other peers, never back to the one that sent it. */
export function relayUpdates({ room, updates }: CommittedBatch): void {
  relayTo(room.peers(), updates);
}

/** Sends each update to every one of `peers` but the one it came from (its transaction origin). */
export function relayTo(peers: Iterable<RoomPeer>, updates: readonly CommittedUpdate[]): void {
  const to = [...peers];
  if (to.length === 0) return;
  for (const { update, origin } of updates) {
    const frame = encodeFrame({ type: 'update', update });
    for (const peer of to) if (peer !== origin) peer.send(frame);
  }
}
