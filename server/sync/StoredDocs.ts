import type { RoomPeer } from './RoomPeer.ts';

/** What a stored document makes of a peer's frame: handled there, or the document must be loaded for it. */
export type StoredOutcome = 'handled' | 'load';

/** One document a peer reads without it being loaded (server/segments/StoredSegment.ts). */
export interface StoredDoc {
  receive(peer: RoomPeer, bytes: Uint8Array): StoredOutcome;
}

/**
 * Documents served to their readers from storage, without loading them (sealed segments:
 * server/segments/StoredSegments.ts). RoomAttachment joins a peer to one when `serves` says so,
 * and moves it to the loaded room when a frame needs the document.
 */
export interface StoredDocs {
  serves(docName: string): boolean;
  join(peer: RoomPeer, docName: string): StoredDoc;
  /** The peer leaves; returns the state vector it holds at least (null before its step 1). */
  leave(peer: RoomPeer, doc: StoredDoc): Uint8Array | null;
  /** The peers reading a room's documents from storage. */
  peersOf(roomId: string): Iterable<RoomPeer>;
  peers(): Iterable<RoomPeer>;
}
