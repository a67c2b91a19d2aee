import type { Db } from '../storage/openDatabase.ts';
import { SqliteUpdateStore } from '../storage/SqliteUpdateStore.ts';
import { parseDocName } from '../../shared/roomDoc/segments.ts';
import { indexStoredDoc } from './indexStoredDoc.ts';
import { SearchRepo } from './SearchRepo.ts';

export interface ReindexOutcome {
  /** Documents read (a room's head and each of its segments count one each). */
  readonly docs: number;
  /** Messages in the index from them afterwards. */
  readonly indexed: number;
}

/**
 * Rebuilds the search index of one room (`roomId`: its head and every segment) or of every room
 * from their stored documents (`parley reindex`), one document (one transaction) at a time.
 * Meant for a stopped server (docs/search.md). `db` is the database, `searchDb` the index's file.
 */
export function reindexStored(db: Db, searchDb: Db, options: { roomId?: string; progress?: (line: string) => void } = {}): ReindexOutcome {
  const store = new SqliteUpdateStore(db);
  const repo = new SearchRepo(searchDb);
  const names = store.docNames().filter((name) => {
    const ref = parseDocName(name);
    return ref !== null && (options.roomId === undefined || ref.roomId === options.roomId);
  });
  let indexed = 0;
  names.forEach((name, i) => {
    const count = indexStoredDoc(store, repo, name);
    indexed += count;
    options.progress?.(`[${i + 1}/${names.length}] ${name}: ${count} messages indexed`);
  });
  return { docs: names.length, indexed };
}
