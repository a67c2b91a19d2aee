import type { Logger } from '../log.ts';
import { DocumentFollower, type FollowerTarget, roomIdOf } from '../sync/DocumentFollower.ts';
import type * as Y from 'yjs';
import { roomMaps } from '../../shared/roomDoc/layout.ts';
import { roomIndex } from '../../shared/roomDoc/RoomIndex.ts';
import { searchEntryOf } from './searchEntryOf.ts';
import type { SearchWorker } from './SearchWorker.ts';
import type { SearchOp } from './searchWorkerProtocol.ts';

/** A committed change waits this long before it is indexed, so a burst of messages is one transaction. */
export const INDEX_DELAY_MS = 100;
/**
 * Turns are at least this far apart while a backlog remains (a room indexed whole on load): each
 * reads its rows on the event loop and is one transaction of the search worker.
 */
const INDEX_GAP_MS = 50;
/**
 * Messages indexed per turn, at up to 4,000 messages a second while a backlog lasts: bounds both
 * the event loop's part of a turn (reading the rows from the document) and the search worker's
 * transaction (the FTS5 writes, about 35 µs a row; 500 rows into an index of 100,000 took 10 ms
 * median and 30 ms at worst while that ran on the event loop).
 */
export const ROWS_PER_TURN = 200;
/**
 * A document unloading with more than this waiting is not indexed then (reading that many rows
 * is several ms in the unload's turn): it is indexed whole when it next loads.
 */
const MAX_ROWS_ON_UNLOAD = 1_000;

/**
 * Keeps the full-text index (docs/search.md) in step with the loaded room documents, off the sync
 * path, through a DocumentFollower: observers note which message ids changed, the commit stage
 * marks the document due, and a timer reads ROWS_PER_TURN at a time from the documents. What a turn
 * finds goes to the search worker as one write (one transaction there): the FTS5 work never runs
 * on the event loop. An edit replaces the row, a deletion or tombstone removes it. A document
 * loaded whose state differs from the one recorded when the index last held all of it (a database
 * from before search, a crash before its changes were indexed, a reindex) is indexed whole: every
 * message it holds, and every row recorded as coming from it that it no longer holds.
 */
export class SearchIndexer extends DocumentFollower<SearchOp> {
  constructor(deps: { worker: SearchWorker; logger: Logger }) {
    super(searchTarget(deps.worker, deps.logger), { name: 'search', delayMs: INDEX_DELAY_MS, gapMs: INDEX_GAP_MS, perTurn: ROWS_PER_TURN, maxOnUnload: MAX_ROWS_ON_UNLOAD }, deps.logger);
  }
}

/** The index's writes are the worker's ops: each write goes to the worker at once, one transaction there, in the order sent. */
function searchTarget(worker: SearchWorker, logger: Logger): FollowerTarget<SearchOp> {
  return {
    observe(room, pending) {
      const { messages, deletions } = roomMaps(room.doc);
      const observer = (event: Y.YMapEvent<unknown>): void => {
        for (const key of event.changes.keys.keys()) pending.add(key);
      };
      messages.observe(observer);
      deletions.observe(observer);
      return () => {
        messages.unobserve(observer);
        deletions.unobserve(observer);
      };
    },
    held(room) {
      const index = roomIndex(room.doc);
      return index.idsBetween(0, index.size);
    },
    recordedUnlessSame: (docName, stateVector) => worker.check(docName, stateVector),
    handle(room, id, others) {
      const roomId = roomIdOf(room);
      const index = roomIndex(room.doc);
      const entry = searchEntryOf(index, roomId, id);
      if (entry) return [{ op: 'put', docName: room.roomId, entry }];
      // Here, but not searchable (deleted, a system message, empty): no row, from any document.
      if (index.message(id)) return [{ op: 'drop', messageId: id }];
      const ops: SearchOp[] = [{ op: 'remove', docName: room.roomId, messageId: id }];
      // Moved to another loaded document of the room: indexed from there (whichever went first).
      for (const home of others()) {
        const moved = searchEntryOf(roomIndex(home.doc), roomId, id);
        if (moved) {
          ops.push({ op: 'put', docName: home.roomId, entry: moved });
          break;
        }
      }
      return ops;
    },
    recordState: (docName, stateVector) => ({ op: 'record', docName, stateVector }),
    forgetState: (docName) => ({ op: 'forget', docName }),
    write(ops) {
      worker.write(ops).catch((err: unknown) => logger.error({ err }, 'search: an index write failed; its documents are indexed whole at their next load'));
    },
  };
}
