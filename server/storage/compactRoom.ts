import * as Y from 'yjs';
import { docOfStored } from './docOfStored.ts';
import type { StoredRoom, UpdateStore } from './UpdateStore.ts';

export interface CompactionResult {
  roomId: string;
  /** Log sequence number the new snapshot covers (0: nothing to compact). */
  upToSeq: number;
  updatesMerged: number;
  bytesBefore: number;
  bytesAfter: number;
}

/** A room's snapshot and log merged into one snapshot, not yet written. */
export interface MergedRoom extends CompactionResult {
  /** null when there was nothing to merge (no log entries after the snapshot). */
  readonly snapshot: Uint8Array | null;
}

/**
 * Merges a room's stored snapshot and log into one snapshot. The state goes through a Y.Doc with
 * garbage collection on, so deleted content (a deleted message's text) is dropped rather than
 * carried along, as Y.mergeUpdates would. Pure: reads nothing, writes nothing (the compaction
 * worker runs it on what it read; the main thread writes the result).
 */
export function mergeRoom(roomId: string, stored: StoredRoom): MergedRoom {
  const bytesBefore = (stored.snapshot?.byteLength ?? 0) + stored.updates.reduce((sum, u) => sum + u.byteLength, 0);
  if (stored.updates.length === 0) return { roomId, snapshot: null, upToSeq: 0, updatesMerged: 0, bytesBefore, bytesAfter: bytesBefore };
  const doc = docOfStored(stored);
  try {
    const snapshot = Y.encodeStateAsUpdate(doc);
    return { roomId, snapshot, upToSeq: stored.lastSeq, updatesMerged: stored.updates.length, bytesBefore, bytesAfter: snapshot.byteLength };
  } finally {
    doc.destroy();
  }
}

/**
 * Merges and writes in one go (the inline compactor, tools, tests). Safe to run while updates
 * keep arriving: only the log entries it read are replaced.
 */
export function compactRoom(store: UpdateStore, roomId: string): CompactionResult {
  const { snapshot, ...result } = mergeRoom(roomId, store.load(roomId));
  if (snapshot) store.compact(roomId, snapshot, result.upToSeq);
  return result;
}
