import { describe, expect, it } from 'vitest';
import { uuidv4 } from '../../shared/ids.ts';
import { segmentDocName } from '../../shared/roomDoc/segments.ts';
import { useTempUpdateStore } from '../../test/support/tempUpdateStore.ts';

/* SqliteUpdateStore.docNamesOf: the documents garbage collection reads for one room. */
const temp = useTempUpdateStore();

const EMPTY = new Uint8Array([0, 0]);

describe('docNamesOf', () => {
  it('lists the room\'s head and segments, whether logged or compacted, and no other room\'s', () => {
    const room = uuidv4();
    const other = uuidv4();
    const logged = [room, segmentDocName(room, 0), segmentDocName(room, 12), other, segmentDocName(other, 0)];
    temp.store.append(logged.map((roomId) => ({ roomId, update: EMPTY })));
    // Compacted: only a snapshot is left of segment 3.
    temp.store.append([{ roomId: segmentDocName(room, 3), update: EMPTY }]);
    temp.store.compact(segmentDocName(room, 3), EMPTY, temp.store.load(segmentDocName(room, 3)).lastSeq);
    // Not a document name of the room (a segment number is decimal, without leading zeros).
    temp.store.append([{ roomId: `${room}:x`, update: EMPTY }]);
    expect(temp.store.load(segmentDocName(room, 3)).updates).toEqual([]);
    expect(temp.store.docNamesOf(room)).toEqual([room, segmentDocName(room, 0), segmentDocName(room, 12), segmentDocName(room, 3)]);
    expect(temp.store.docNamesOf(uuidv4())).toEqual([]);
  });
});
