import * as Y from 'yjs';
import type { Db } from '../storage/openDatabase.ts';
import { SqliteUpdateStore } from '../storage/SqliteUpdateStore.ts';
import { roomIndex } from '../../shared/roomDoc/RoomIndex.ts';
import { parseDocName } from '../../shared/roomDoc/segments.ts';
import { searchEntryOf } from './searchEntryOf.ts';
import { SearchRepo } from './SearchRepo.ts';

export interface ReindexOutcome {
  /** Documents read (a room's head and each of its segments count one each). */
  readonly docs: number;
  /** Messages in the index from them afterwards. */
  readonly indexed: number;
}

/**
 * Rebuilds the search index of one room (`roomId`: its head and every segment) or of every room
 * from their stored documents (`parley reindex`): per document, one transaction that drops the
 * rows it had, writes a row for each searchable message it holds and records its state vector,
 * so a server started afterwards does not index it again on load. Reads the whole document into
 * memory (up to a segment's 4 MiB); meant for a stopped server (docs/search.md).
 */
export function reindexStored(db: Db, options: { roomId?: string; progress?: (line: string) => void } = {}): ReindexOutcome {
  const store = new SqliteUpdateStore(db);
  const repo = new SearchRepo(db);
  const names = store.docNames().filter((name) => {
    const ref = parseDocName(name);
    return ref !== null && (options.roomId === undefined || ref.roomId === options.roomId);
  });
  let indexed = 0;
  names.forEach((name, i) => {
    const roomId = parseDocName(name)!.roomId;
    const stored = store.load(name);
    const doc = new Y.Doc({ gc: true });
    try {
      doc.transact(() => {
        if (stored.snapshot) Y.applyUpdate(doc, stored.snapshot);
        for (const update of stored.updates) Y.applyUpdate(doc, update);
      });
      const index = roomIndex(doc);
      let count = 0;
      repo.transaction(() => {
        for (const id of repo.idsOf(name)) repo.remove(name, id);
        for (const id of index.idsBetween(0, index.size)) {
          const entry = searchEntryOf(index, roomId, id);
          if (entry) {
            repo.put(name, entry);
            count++;
          } else {
            repo.drop(id);
          }
        }
        repo.recordIndexed(name, Y.encodeStateVector(doc));
      });
      indexed += count;
      options.progress?.(`[${i + 1}/${names.length}] ${name}: ${count} messages indexed`);
    } finally {
      doc.destroy();
    }
  });
  return { docs: names.length, indexed };
}
