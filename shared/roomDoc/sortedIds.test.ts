import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { insertSorted, lowerBound, mergeSorted, removeSorted, upperBound } from './sortedIds.ts';

const FC = { seed: 7, numRuns: 300 };
// A small alphabet makes duplicates and shared prefixes common.
const idArb = fc.string({ unit: fc.constantFrom('0', '1', '7', 'a', 'f', '-'), maxLength: 4 });
const sortedSetArb = fc.uniqueArray(idArb).map((ids) => ids.sort());

describe('sorted id arrays', () => {
  it('insert and remove keep the array equal to a sorted set', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), idArb)), (ops) => {
        const ids: string[] = [];
        const model = new Set<string>();
        for (const [add, id] of ops) {
          if (add) {
            insertSorted(ids, id);
            model.add(id);
          } else {
            removeSorted(ids, id);
            model.delete(id);
          }
        }
        expect(ids).toEqual([...model].sort());
      }),
      FC,
    );
  });

  it('merge equals the sorted union', () => {
    fc.assert(
      fc.property(sortedSetArb, sortedSetArb, (a, b) => {
        expect(mergeSorted(a, b)).toEqual([...new Set([...a, ...b])].sort());
      }),
      FC,
    );
  });

  it('bounds split the array around an id', () => {
    fc.assert(
      fc.property(sortedSetArb, idArb, (ids, id) => {
        const lo = lowerBound(ids, id);
        const hi = upperBound(ids, id);
        expect(ids.slice(0, lo).every((x) => x < id)).toBe(true);
        expect(ids.slice(lo).every((x) => x >= id)).toBe(true);
        expect(ids.slice(hi).every((x) => x > id)).toBe(true);
        expect(hi - lo).toBe(ids.includes(id) ? 1 : 0);
      }),
      FC,
    );
  });
});
