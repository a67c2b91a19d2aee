import * as Y from 'yjs';
import { docOfStored } from '../storage/docOfStored.ts';
import type { SqliteUpdateStore } from '../storage/SqliteUpdateStore.ts';
import { roomIndex } from '../../shared/roomDoc/RoomIndex.ts';
import { parseDocName } from '../../shared/roomDoc/segments.ts';
import { searchEntryOf } from './searchEntryOf.ts';
import type { SearchRepo } from './SearchRepo.ts';

/**
 * Indexes one stored document (a room's head or one of its segments) from storage, in one
 * transaction: drops the rows it had, writes a row for each searchable message it holds, and
 * records its state vector (so loading it later does not index it again). Returns the messages
 * indexed. Reads the whole document into memory: up to a segment's 4 MiB, or a room from before
 * segments (migrated into segments when it next loads).
 */
export function indexStoredDoc(store: SqliteUpdateStore, repo: SearchRepo, docName: string): number {
  const roomId = parseDocName(docName)?.roomId;
  if (roomId === undefined) return 0;
  const stored = store.load(docName);
  const doc = docOfStored(stored);
  try {
    const index = roomIndex(doc);
    let count = 0;
    repo.transaction(() => {
      for (const id of repo.idsOf(docName)) repo.remove(docName, id);
      for (const id of index.idsBetween(0, index.size)) {
        const entry = searchEntryOf(index, roomId, id);
        if (entry) {
          repo.put(docName, entry);
          count++;
        } else {
          repo.drop(id);
        }
      }
      repo.recordIndexed(docName, Y.encodeStateVector(doc));
    });
    return count;
  } finally {
    doc.destroy();
  }
}
