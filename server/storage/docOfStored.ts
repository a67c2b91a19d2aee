import * as Y from 'yjs';
import type { StoredRoom } from './UpdateStore.ts';

/**
 * A new Y.Doc holding a stored document (its snapshot, then its log) applied in one transaction,
 * for code that reads a document without loading it as a Room (the storage worker, compaction,
 * indexing, garbage collection). The caller destroys it.
 */
export function docOfStored(stored: StoredRoom): Y.Doc {
  const doc = new Y.Doc();
  doc.transact(() => {
    if (stored.snapshot) Y.applyUpdate(doc, stored.snapshot);
    for (const update of stored.updates) Y.applyUpdate(doc, update);
  });
  return doc;
}
