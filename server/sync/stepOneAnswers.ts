import type { FramePacer } from '../ws/FramePacer.ts';
import type { Room } from './Room.ts';
import type { RoomPeer } from './RoomPeer.ts';
import { MAX_UNKNOWN_STATE_VECTOR_ENTRIES, StepOneRefused } from './roomTypes.ts';

/*
 * Answering a peer's sync step 1, shared by a joined peer (PeerSession) and one reading a
 * segment from storage (server/segments/StoredSegment.ts).
 */

/**
 * What of a step 1's state vector counts for the answer: entries for client ids the document has
 * (`has`) at a clock above 0; others change nothing in it. Throws StepOneRefused for one naming
 * far more client ids than the document has (`size`).
 */
export function knownEntries(asked: ReadonlyMap<number, number>, clients: { readonly size: number; has(client: number): boolean }): Map<number, number> {
  if (asked.size > clients.size + MAX_UNKNOWN_STATE_VECTOR_ENTRIES) {
    throw new StepOneRefused(`a sync step 1 names ${asked.size} client ids; the room has ${clients.size}`);
  }
  return new Map([...asked].filter(([client, clock]) => clock > 0 && clients.has(client)));
}

/** Sends reply frames: several (a big room's answer) through the pacer, so that writing them holds no turn for long. */
export function sendFrames(peer: RoomPeer, frames: readonly Uint8Array[], pacer: FramePacer | undefined): void {
  if (peer.closed) return;
  if (frames.length > 1 && pacer) pacer.send(peer, frames);
  else for (const frame of frames) peer.send(frame);
}

/** Answers a step 1 from a loaded room (Room.syncStep2For); a refused or malformed one closes the peer. */
export function answerFromRoom(room: Room, peer: RoomPeer, stateVector: Uint8Array, pacer: FramePacer | undefined): void {
  let reply: readonly Uint8Array[] | Promise<readonly Uint8Array[]>;
  try {
    reply = room.syncStep2For(stateVector);
  } catch (err) {
    peer.close('ProtocolError', err instanceof StepOneRefused ? err.message : 'malformed state vector');
    return;
  }
  if (!(reply instanceof Promise)) return sendFrames(peer, reply, pacer);
  reply.then(
    (frames) => sendFrames(peer, frames, pacer),
    () => peer.close('InternalError', 'the room could not be read'),
  );
}
