import * as Y from 'yjs';
import type { UpdateStore } from './UpdateStore.ts';

export interface CompactionResult {
  roomId: string;
  /** Log sequence number the new snapshot covers (0: nothing to compact). */
  upToSeq: number;
  updatesMerged: number;
  bytesBefore: number;
  bytesAfter: number;
}

/**
 * Merges a room's snapshot and log into one snapshot. The state goes through a Y.Doc with
 * garbage collection on, so deleted content (a deleted message's text) is dropped rather than
 * carried along, as Y.mergeUpdates would. Safe to run while updates keep arriving: only the
 * log entries it read are replaced, in one transaction.
 */
export function compactRoom(store: UpdateStore, roomId: string): CompactionResult {
  const stored = store.load(roomId);
  const bytesBefore = (stored.snapshot?.byteLength ?? 0) + stored.updates.reduce((sum, u) => sum + u.byteLength, 0);
  if (stored.updates.length === 0) {
    return { roomId, upToSeq: 0, updatesMerged: 0, bytesBefore, bytesAfter: bytesBefore };
  }
  const doc = new Y.Doc({ gc: true });
  try {
    doc.transact(() => {
      if (stored.snapshot) Y.applyUpdate(doc, stored.snapshot);
      for (const update of stored.updates) Y.applyUpdate(doc, update);
    });
    const snapshot = Y.encodeStateAsUpdate(doc);
    store.compact(roomId, snapshot, stored.lastSeq);
    return { roomId, upToSeq: stored.lastSeq, updatesMerged: stored.updates.length, bytesBefore, bytesAfter: snapshot.byteLength };
  } finally {
    doc.destroy();
  }
}
