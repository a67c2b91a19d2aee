import { encodeFrame } from '../../../shared/protocol/frames.ts';
import type { CommittedBatch } from './CommittedBatch.ts';

/**
 * Tells every Parley peer whose updates this commit covers that they are durable: one ack frame
 * with the room's state vector as the commit took it, encoded once for all of them.
 */
export function acknowledgeWriters({ writers, stateVector }: CommittedBatch): void {
  let ack: Uint8Array | null = null;
  for (const peer of writers) {
    if (!peer.parley || !stateVector) continue;
    ack ??= encodeFrame({ type: 'ack', stateVector });
    peer.send(ack);
  }
}
