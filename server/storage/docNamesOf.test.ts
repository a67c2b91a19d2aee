import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { uuidv4 } from '../../shared/ids.ts';
import { segmentDocName } from '../../shared/roomDoc/segments.ts';
import { openDatabase, type Db } from './openDatabase.ts';
import { SqliteUpdateStore } from './SqliteUpdateStore.ts';
import { makeTempDir } from '../../test/support/tempDir.ts';

/* SqliteUpdateStore.docNamesOf: the documents garbage collection reads for one room. */
let db: Db;
let store: SqliteUpdateStore;
let remove: () => void;
beforeEach(() => {
  const tmp = makeTempDir();
  remove = tmp.remove;
  db = openDatabase(path.join(tmp.dir, 'p.db'));
  store = new SqliteUpdateStore(db);
});
afterEach(() => {
  db.close();
  remove();
});

const EMPTY = new Uint8Array([0, 0]);

describe('docNamesOf', () => {
  it('lists the room\'s head and segments, whether logged or compacted, and no other room\'s', () => {
    const room = uuidv4();
    const other = uuidv4();
    const logged = [room, segmentDocName(room, 0), segmentDocName(room, 12), other, segmentDocName(other, 0)];
    store.append(logged.map((roomId) => ({ roomId, update: EMPTY })));
    // Compacted: only a snapshot is left of segment 3.
    store.append([{ roomId: segmentDocName(room, 3), update: EMPTY }]);
    store.compact(segmentDocName(room, 3), EMPTY, store.load(segmentDocName(room, 3)).lastSeq);
    // Not a document name of the room (a segment number is decimal, without leading zeros).
    store.append([{ roomId: `${room}:x`, update: EMPTY }]);
    expect(store.load(segmentDocName(room, 3)).updates).toEqual([]);
    expect(store.docNamesOf(room)).toEqual([room, segmentDocName(room, 0), segmentDocName(room, 12), segmentDocName(room, 3)]);
    expect(store.docNamesOf(uuidv4())).toEqual([]);
  });
});
