import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { CONVERTING_KEY, type SegmentEntry, SegmentIndex, docNameOf, parseDocName, segmentDocName, segmentsMap } from './segments.ts';
import { T0, v7 } from '../../test/support/roomDocFixtures.ts';

const ROOM = '6f1c2d3e-4a5b-4c6d-8e7f-901a2b3c4d5e';

/** A message id at second `s` after T0 (ids sort by time). */
const at = (s: number, tail = 0): string => v7(T0 + s * 1000, tail);

const sealed = (first: string, last: string, count: number): SegmentEntry => ({ sealed: true, first, last, count });
const OPEN: SegmentEntry = { sealed: false, first: null, last: null, count: 0 };

/** A head whose `segments` map holds these entries (written as the server writes them: one transaction). */
function headWith(entries: Record<string, unknown>): Y.Doc {
  const head = new Y.Doc();
  head.transact(() => {
    for (const [key, value] of Object.entries(entries)) segmentsMap(head).set(key, value);
  });
  return head;
}

describe('parseDocName', () => {
  it('reads a room id as the head', () => {
    expect(parseDocName(ROOM)).toEqual({ roomId: ROOM, segment: null });
    expect(docNameOf({ roomId: ROOM, segment: null })).toBe(ROOM);
  });

  it('reads `<roomId>:<n>` as segment n, and names it back the same way', () => {
    expect(parseDocName(`${ROOM}:0`)).toEqual({ roomId: ROOM, segment: 0 });
    expect(parseDocName(`${ROOM}:12`)).toEqual({ roomId: ROOM, segment: 12 });
    expect(segmentDocName(ROOM, 12)).toBe(`${ROOM}:12`);
    expect(docNameOf({ roomId: ROOM, segment: 7 })).toBe(`${ROOM}:7`);
  });

  it('refuses leading zeros (one segment has one name)', () => {
    expect(parseDocName(`${ROOM}:01`)).toBeNull();
    expect(parseDocName(`${ROOM}:00`)).toBeNull();
    expect(parseDocName(`${ROOM}:007`)).toBeNull();
  });

  it('refuses room ids that are not uuids, and segment parts that are not plain decimals', () => {
    expect(parseDocName('general')).toBeNull();
    expect(parseDocName('general:1')).toBeNull();
    expect(parseDocName('')).toBeNull();
    expect(parseDocName(':1')).toBeNull();
    expect(parseDocName(`${ROOM}:`)).toBeNull();
    expect(parseDocName(`${ROOM}:-1`)).toBeNull();
    expect(parseDocName(`${ROOM}:+1`)).toBeNull();
    expect(parseDocName(`${ROOM}:1.0`)).toBeNull();
    expect(parseDocName(`${ROOM}:1e3`)).toBeNull();
    expect(parseDocName(`${ROOM}: 1`)).toBeNull();
    expect(parseDocName(`${ROOM}:1:2`)).toBeNull();
    expect(parseDocName(`${ROOM}x:1`)).toBeNull();
  });

  it('refuses segment numbers past the limit (2,000,000 segments), however many digits', () => {
    expect(parseDocName(`${ROOM}:1999999`)).toEqual({ roomId: ROOM, segment: 1_999_999 });
    expect(parseDocName(`${ROOM}:2000000`)).toBeNull();
    expect(parseDocName(`${ROOM}:9999999`)).toBeNull();
    expect(parseDocName(`${ROOM}:10000000`)).toBeNull();
    expect(parseDocName(`${ROOM}:${'9'.repeat(400)}`)).toBeNull();
    expect(parseDocName(`${ROOM}:${Number.MAX_SAFE_INTEGER}`)).toBeNull();
  });
});

describe('SegmentIndex.of', () => {
  it('a head naming no segments: a room not segmented, every message at home in the head', () => {
    const index = SegmentIndex.of(new Y.Doc());
    expect(index.segmented).toBe(false);
    expect(index.sealed).toEqual([]);
    expect(index.open).toBeNull();
    expect(index.newestFirst()).toEqual([]);
    expect(index.homeOf(at(1))).toBeNull();
  });

  it('a head being converted (only the converting flag, or sealed segments and no open one yet) is not segmented', () => {
    expect(SegmentIndex.of(headWith({ [CONVERTING_KEY]: true })).segmented).toBe(false);
    const halfway = SegmentIndex.of(headWith({ [CONVERTING_KEY]: true, '0': sealed(at(1), at(10), 10) }));
    expect(halfway.segmented).toBe(false);
    expect(halfway.sealed.map((s) => s.n)).toEqual([0]);
    expect(halfway.homeOf(at(5))).toBe(0);
    // Past the sealed ranges while converting: no home yet (the id is still in the head).
    expect(halfway.homeOf(at(11))).toBeNull();
  });

  it('sealed segments and the open one: ranges, order and counts', () => {
    const head = headWith({ '0': sealed(at(10), at(20), 5), '1': sealed(at(30), at(40), 7), '2': OPEN });
    const index = SegmentIndex.of(head);
    expect(index.segmented).toBe(true);
    expect(index.sealed).toEqual([
      { n: 0, sealed: true, first: at(10), last: at(20), count: 5 },
      { n: 1, sealed: true, first: at(30), last: at(40), count: 7 },
    ]);
    expect(index.open).toEqual({ n: 2, ...OPEN });
    expect(index.newestFirst()).toEqual([2, 1, 0]);
    expect(index.sealedCountAfter(0)).toBe(7);
    expect(index.sealedCountAfter(1)).toBe(0);
  });

  it('homeOf: below, inside, at the ends of, between and after the sealed ranges', () => {
    const index = SegmentIndex.of(headWith({ '0': sealed(at(10), at(20), 5), '1': sealed(at(30), at(40), 7), '2': OPEN }));
    // Below the first range: segment 0 (its range has no lower end).
    expect(index.homeOf(at(1))).toBe(0);
    expect(index.homeOf('00000000-0000-7000-8000-000000000000')).toBe(0);
    // Inside, and at both ends of, segment 0.
    expect(index.homeOf(at(10))).toBe(0);
    expect(index.homeOf(at(15))).toBe(0);
    expect(index.homeOf(at(20))).toBe(0);
    // Between 0's last and 1's first: segment 1's range is (0's last, 1's last], whatever 1's first.
    expect(index.homeOf(at(20, 1))).toBe(1);
    expect(index.homeOf(at(25))).toBe(1);
    expect(index.homeOf(at(30))).toBe(1);
    expect(index.homeOf(at(40))).toBe(1);
    // After every sealed range: the open segment.
    expect(index.homeOf(at(40, 1))).toBe(2);
    expect(index.homeOf(at(1_000_000))).toBe(2);
  });

  it('reachesBefore: a segment may hold ids before a cursor from right after the previous range, below its own first', () => {
    const index = SegmentIndex.of(headWith({ '0': sealed(at(10), at(20), 5), '1': sealed(at(30), at(40), 7), '2': OPEN }));
    for (const n of [0, 1, 2]) expect(index.reachesBefore(n, undefined)).toBe(true);
    // Segment 0's range has no lower end.
    expect(index.reachesBefore(0, at(1))).toBe(true);
    // Segment 1 holds (0's last, 1's last]: a cursor just past 0's last, below 1's first, reaches it.
    expect(index.reachesBefore(1, at(20))).toBe(false);
    expect(index.reachesBefore(1, at(20, 2))).toBe(true);
    expect(index.reachesBefore(1, at(25))).toBe(true);
    // The open segment starts after the newest sealed last.
    expect(index.reachesBefore(2, at(40))).toBe(false);
    expect(index.reachesBefore(2, at(40, 2))).toBe(true);
  });

  it('stops at the first gap in the numbering: what follows it is ignored', () => {
    const gapBeforeOpen = SegmentIndex.of(headWith({ '0': sealed(at(10), at(20), 5), '2': OPEN }));
    expect(gapBeforeOpen.sealed.map((s) => s.n)).toEqual([0]);
    expect(gapBeforeOpen.open).toBeNull();
    expect(gapBeforeOpen.segmented).toBe(false);
    expect(gapBeforeOpen.homeOf(at(30))).toBeNull();

    const gapBetweenSealed = SegmentIndex.of(headWith({ '0': sealed(at(10), at(20), 5), '2': sealed(at(30), at(40), 5), '3': OPEN }));
    expect(gapBetweenSealed.sealed.map((s) => s.n)).toEqual([0]);
    expect(gapBetweenSealed.open).toBeNull();

    const noZero = SegmentIndex.of(headWith({ '1': sealed(at(10), at(20), 5), '2': OPEN }));
    expect(noZero.sealed).toEqual([]);
    expect(noZero.open).toBeNull();
  });

  it('ignores malformed entries and keys, and stops at a range that does not grow', () => {
    // '01' is no segment key, and a malformed entry under '1' is a gap.
    const malformed = SegmentIndex.of(headWith({ '0': sealed(at(10), at(20), 5), '01': OPEN, '1': { sealed: false }, '2': OPEN }));
    expect(malformed.sealed.map((s) => s.n)).toEqual([0]);
    expect(malformed.open).toBeNull();

    const extraField = SegmentIndex.of(headWith({ '0': { ...OPEN, extra: 1 } }));
    expect(extraField.segmented).toBe(false);

    const sealedWithoutLast = SegmentIndex.of(headWith({ '0': { sealed: true, first: null, last: null, count: 0 }, '1': OPEN }));
    expect(sealedWithoutLast.sealed).toEqual([]);
    expect(sealedWithoutLast.open).toBeNull();

    const goingBack = SegmentIndex.of(headWith({ '0': sealed(at(10), at(20), 5), '1': sealed(at(11), at(20), 5), '2': OPEN }));
    expect(goingBack.sealed.map((s) => s.n)).toEqual([0]);
    expect(goingBack.open).toBeNull();
  });

  it('follows changes of the segments map (a seal seen by a head that was read before)', () => {
    const head = headWith({ '0': OPEN });
    const before = SegmentIndex.of(head);
    expect(before.open?.n).toBe(0);
    expect(SegmentIndex.of(head)).toBe(before);

    // The seal as the server writes it, arriving over the network.
    const server = new Y.Doc();
    Y.applyUpdate(server, Y.encodeStateAsUpdate(head));
    server.transact(() => {
      segmentsMap(server).set('0', sealed(at(10), at(20), 5));
      segmentsMap(server).set('1', OPEN);
    });
    Y.applyUpdate(head, Y.encodeStateAsUpdate(server, Y.encodeStateVector(head)));

    const after = SegmentIndex.of(head);
    expect(after.open?.n).toBe(1);
    expect(after.sealed.map((s) => s.n)).toEqual([0]);
    expect(after.homeOf(at(21))).toBe(1);
  });

  it('is current inside an observer of the segments map registered before the index was first read', () => {
    const head = headWith({ '0': OPEN });
    const seen: Array<number | undefined> = [];
    segmentsMap(head).observe(() => seen.push(SegmentIndex.of(head).open?.n));
    expect(SegmentIndex.of(head).open?.n).toBe(0);
    head.transact(() => {
      segmentsMap(head).set('0', sealed(at(10), at(20), 5));
      segmentsMap(head).set('1', OPEN);
    });
    expect(seen).toEqual([1]);
  });
});
