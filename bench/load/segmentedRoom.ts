import { join } from 'node:path';
import * as Y from 'yjs';
import { openDatabase } from '../../server/storage/openDatabase.ts';
import { SqliteUpdateStore } from '../../server/storage/SqliteUpdateStore.ts';
import { SearchRepo } from '../../server/search/SearchRepo.ts';
import { openSearchDatabase, searchDbFileOf } from '../../server/search/openSearchDatabase.ts';
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
 *
 * seedRoomsInSegments writes one history into many rooms: each document is encoded once and the
 * same bytes are stored under every room's names (1,000 rooms of 100,000 messages: 21 documents
 * encoded, ~25 GB written).
 */

export interface SeededHistory {
  readonly messages: number;
  /** Segments stored (sealed ones, plus the open one when it holds messages); 0 for one document. */
  readonly segments: number;
  /** Bytes of Yjs updates written for one room (every document of it). */
  readonly storedBytes: number;
  /** Bytes of the head's update (0 for one document), and of a full segment's (the last one written). */
  readonly headBytes: number;
  readonly segmentBytes: number;
  /** How long seeding took (building the documents and writing them, for every room). */
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

/** Message i of a history starting at `t0`: ids sort by time, 1 ms apart. */
const idAt = (t0: number, i: number): string => v7(t0 + i, i);

function messageValue(id: string, senderId: string, i: number, createdAt: number) {
  return { id, senderId, type: 'text', content: `history message ${i} `.padEnd(80, '.'), meta: {}, createdAt };
}

/** One document of a history, encoded: a segment (its number) or the room's own (null: the head, or the whole room under SEGMENT_MAX_MESSAGES). */
interface HistoryDoc {
  readonly segment: number | null;
  readonly update: Uint8Array;
  readonly clientId: number;
  /** Messages it holds (none in a head). */
  readonly messages: number;
}

/** The documents of a `count`-message history by `authorId` starting at `t0`, encoded one at a time (a 1M history is 200 segments). */
function* historyDocs(authorId: string, count: number, t0: number): Generator<HistoryDoc> {
  const idOf = (i: number): string => idAt(t0, i);
  const encode = (segment: number | null, from: number, to: number, head?: (doc: Y.Doc) => void): HistoryDoc => {
    const doc = new Y.Doc();
    const { messages } = roomMaps(doc);
    doc.transact(() => {
      for (let i = from; i < to; i++) messages.set(idOf(i), messageValue(idOf(i), authorId, i, t0 + i));
    });
    if (head) head(doc);
    const encoded = { segment, update: Y.encodeStateAsUpdate(doc), clientId: doc.clientID, messages: messages.size };
    doc.destroy();
    return encoded;
  };
  if (count < SEGMENT_MAX_MESSAGES) {
    yield encode(null, 0, count);
    return;
  }
  const sealedCount = Math.floor(count / SEGMENT_MAX_MESSAGES);
  for (let n = 0; n <= sealedCount; n++) {
    const from = n * SEGMENT_MAX_MESSAGES;
    const to = Math.min(count, from + SEGMENT_MAX_MESSAGES);
    if (to > from) yield encode(n, from, to);
  }
  // The head: the first SEGMENT_MAX_MESSAGES written, then moved out (deleted), then the map of segments.
  yield encode(null, 0, SEGMENT_MAX_MESSAGES, (doc) => {
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

/** Rooms whose copy of one document goes into one transaction (a 5,000-message segment is ~1.3 MB). */
const ROOMS_PER_TRANSACTION = 16;

/** Writes `count` messages by `authorId` into room `roomId` of the stopped server whose data dir is `dataDir`. */
export function seedHistoryInSegments(dataDir: string, roomId: string, authorId: string, count: number): SeededHistory {
  return seedRoomsInSegments(dataDir, [roomId], authorId, count);
}

/**
 * The same history in every room of `roomIds`: each document is encoded once and its bytes
 * written under every room's name (the rooms hold the same message ids, which no check forbids
 * across rooms), through one database connection.
 */
export function seedRoomsInSegments(dataDir: string, roomIds: readonly string[], authorId: string, count: number): SeededHistory {
  const started = performance.now();
  const t0 = Date.now() - 60_000 - count;
  const db = openDatabase(join(dataDir, 'parley.db'));
  const searchDb = openSearchDatabase(searchDbFileOf(join(dataDir, 'parley.db')));
  let storedBytes = 0;
  let segments = 0;
  let headBytes = 0;
  let segmentBytes = 0;
  try {
    // The data is thrown away after the run: no fsync per transaction.
    db.pragma('synchronous = OFF');
    const store = new SqliteUpdateStore(db);
    // Recorded as indexed (the text is not in the index), as a server that wrote these rooms
    // would leave them: the one-time search backfill of an upgraded database is not what these
    // figures measure (docs/search.md, "Upgrading").
    const search = new SearchRepo(searchDb);
    for (const doc of historyDocs(authorId, count, t0)) {
      const nameIn = (roomId: string): string => (doc.segment === null ? roomId : segmentDocName(roomId, doc.segment));
      for (let r = 0; r < roomIds.length; r += ROOMS_PER_TRANSACTION) {
        const names = roomIds.slice(r, r + ROOMS_PER_TRANSACTION).map(nameIn);
        store.append(
          names.map((name) => ({ roomId: name, update: doc.update })),
          names.map((name) => ({ roomId: name, clientId: doc.clientId, userId: authorId })),
        );
        const state = Y.encodeStateVectorFromUpdate(doc.update);
        search.transaction(() => names.forEach((name) => search.recordIndexed(name, state)));
      }
      storedBytes += doc.update.byteLength;
      if (doc.segment !== null) {
        segments++;
        if (doc.messages === SEGMENT_MAX_MESSAGES) segmentBytes = doc.update.byteLength;
      } else if (segments > 0) headBytes = doc.update.byteLength;
    }
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    searchDb.close();
    db.close();
  }
  return {
    messages: count,
    segments,
    storedBytes,
    headBytes,
    segmentBytes,
    seedMs: performance.now() - started,
    newest: (n) => Array.from({ length: Math.min(n, count) }, (_, k) => idAt(t0, count - Math.min(n, count) + k)),
  };
}
