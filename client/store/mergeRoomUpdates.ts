import * as Y from 'yjs';

/**
 * Merges a room's snapshot and log entries into one V1 update through a garbage-collecting doc,
 * so that the text of deleted messages is gone from the device too (Y.mergeUpdates would keep
 * it). Pending structs (an entry whose dependencies are missing) are kept by
 * encodeStateAsUpdate, so nothing stored is lost.
 */
export function mergeRoomUpdates(updates: readonly Uint8Array[]): Uint8Array {
  const doc = new Y.Doc({ gc: true });
  try {
    doc.transact(() => {
      for (const update of updates) Y.applyUpdate(doc, update);
    });
    return Y.encodeStateAsUpdate(doc);
  } finally {
    doc.destroy();
  }
}
