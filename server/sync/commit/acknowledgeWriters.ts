import * as Y from 'yjs';
import { encodeFrame } from '../../../shared/protocol/frames.ts';
import type { CommittedBatch } from './CommittedBatch.ts';

/**
 * Tells every Parley peer whose updates this commit covers that they are durable: one ack frame
 * with the room's state vector after the commit, encoded once for all of them.
 */
export function acknowledgeWriters({ room, writers }: CommittedBatch): void {
  let ack: Uint8Array | null = null;
  for (const peer of writers) {
    if (!peer.parley) continue;
    ack ??= encodeFrame({ type: 'ack', stateVector: Y.encodeStateVector(room.doc) });
    peer.send(ack);
  }
}
