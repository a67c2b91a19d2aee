import { join } from 'node:path';
import * as Y from 'yjs';
import { openDatabase } from '../../server/storage/openDatabase.ts';
import { SqliteUpdateStore } from '../../server/storage/SqliteUpdateStore.ts';
import { roomMaps } from '../../shared/roomDoc/layout.ts';
import { SEGMENT_MAX_MESSAGES, type SegmentEntry, segmentDocName, segmentsMap } from '../../shared/roomDoc/segments.ts';

/*
 * A room's history written straight into a stopped Parley server's SQLite (its data dir's
 * parley.db), the way the server itself would hold it (the idea of test/support/seededRooms.ts
 * seedSegmentedRoom, at benchmark sizes and with known ids):
 *
 * - under SEGMENT_MAX_MESSAGES: one document, one logged update;
 * - from SEGMENT_MAX_MESSAGES on: segments `<roomId>:<n>` of SEGMENT_MAX_MESSAGES each, one logged
 *   update per segment (its client id bound to the author, as the sync path commits it), the rest
 *   in the open segment (none stored when it is empty), and the head `<roomId>` as a room that
 *   grew past SEGMENT_MAX_MESSAGES is left by its conversion: the `segments` map, and the
 *   tombstones of the SEGMENT_MAX_MESSAGES messages moved out of it (Yjs keeps a deleted map key).
 *
 * Values are written straight into the maps (what createMessage writes, without its per-message
 * checks), content ~80 characters as in the other benchmarks. Ids are UUIDv7s 1 ms apart ending a
 * minute before now, so the newest ones are known without keeping a million strings.
 */

export interface SeededHistory {
  readonly messages: number;
  /** Segments stored (sealed ones, plus the open one when it holds messages); 0 for one document. */
  readonly segments: number;
  /** Bytes of Yjs updates written (every document). */
  readonly storedBytes: number;
  /** Bytes of the head's update (0 for one document), and of a full segment's (the last one written). */
  readonly headBytes: number;
  readonly segmentBytes: number;
  /** How long seeding took (building the documents and writing them). */
  readonly seedMs: number;
  /** The newest `n` ids, oldest first. */
  newest(n: number): string[];
}

const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0');

/** A lowercase UUIDv7 at `ms` with `tail` in its random bits: ids sort by (ms, tail). */
function v7(ms: number, tail: number): string {
  const time = hex(ms, 12);
  const rand = hex(tail, 15);
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7${rand.slice(0, 3)}-8${rand.slice(3, 6)}-${rand.slice(6, 15)}000`;
}

function messageValue(id: string, senderId: string, i: number, createdAt: number) {
  return { id, senderId, type: 'text', content: `history message ${i} `.padEnd(80, '.'), meta: {}, createdAt };
}

/** Writes `count` messages by `authorId` into room `roomId` of the stopped server whose data dir is `dataDir`. */
export function seedHistoryInSegments(dataDir: string, roomId: string, authorId: string, count: number): SeededHistory {
  const started = performance.now();
  const t0 = Date.now() - 60_000 - count;
  const idOf = (i: number): string => v7(t0 + i, i);
  const db = openDatabase(join(dataDir, 'parley.db'));
  let storedBytes = 0;
  let segments = 0;
  let headBytes = 0;
  let segmentBytes = 0;
  try {
    // The data is thrown away after the run: no fsync per segment.
    db.pragma('synchronous = OFF');
    const store = new SqliteUpdateStore(db);
    const writeDoc = (name: string, from: number, to: number, head?: (doc: Y.Doc) => void): number => {
      const doc = new Y.Doc();
      const { messages } = roomMaps(doc);
      doc.transact(() => {
        for (let i = from; i < to; i++) messages.set(idOf(i), messageValue(idOf(i), authorId, i, t0 + i));
      });
      if (head) head(doc);
      const update = Y.encodeStateAsUpdate(doc);
      storedBytes += update.byteLength;
      store.append([{ roomId: name, update }], [{ roomId: name, clientId: doc.clientID, userId: authorId }]);
      doc.destroy();
      return update.byteLength;
    };

    if (count < SEGMENT_MAX_MESSAGES) {
      writeDoc(roomId, 0, count);
    } else {
      const sealedCount = Math.floor(count / SEGMENT_MAX_MESSAGES);
      for (let n = 0; n <= sealedCount; n++) {
        const from = n * SEGMENT_MAX_MESSAGES;
        const to = Math.min(count, from + SEGMENT_MAX_MESSAGES);
        if (to > from) {
          const bytes = writeDoc(segmentDocName(roomId, n), from, to);
          if (to - from === SEGMENT_MAX_MESSAGES) segmentBytes = bytes;
          segments++;
        }
      }
      // The head: the first SEGMENT_MAX_MESSAGES written, then moved out (deleted), then the map of segments.
      headBytes = writeDoc(roomId, 0, SEGMENT_MAX_MESSAGES, (doc) => {
        const { messages } = roomMaps(doc);
        doc.transact(() => {
          for (let i = 0; i < SEGMENT_MAX_MESSAGES; i++) messages.delete(idOf(i));
        });
        const map = segmentsMap(doc);
        doc.transact(() => {
          for (let n = 0; n < sealedCount; n++) {
            const first = n * SEGMENT_MAX_MESSAGES;
            const last = first + SEGMENT_MAX_MESSAGES - 1;
            map.set(String(n), { sealed: true, first: idOf(first), last: idOf(last), count: SEGMENT_MAX_MESSAGES } satisfies SegmentEntry);
          }
          map.set(String(sealedCount), { sealed: false, first: null, last: null, count: 0 } satisfies SegmentEntry);
        });
      });
    }
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
  return {
    messages: count,
    segments,
    storedBytes,
    headBytes,
    segmentBytes,
    seedMs: performance.now() - started,
    newest: (n) => Array.from({ length: Math.min(n, count) }, (_, k) => idOf(count - Math.min(n, count) + k)),
  };
}
