/*
 * Sorted arrays of message ids. Plain `<` compares UTF-16 code units, which for lowercase UUIDs is
 * the display order (createdAt, id); localeCompare would not be.
 */

/** Index of the first id >= `id` (where it would be inserted). */
export function lowerBound(ids: readonly string[], id: string): number {
  let lo = 0;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((ids[mid] ?? '') < id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the first id > `id`. */
export function upperBound(ids: readonly string[], id: string): number {
  let lo = 0;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((ids[mid] ?? '') <= id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Inserts `id` unless present. Appending the newest id, the common case, moves nothing. */
export function insertSorted(ids: string[], id: string): void {
  const last = ids[ids.length - 1];
  if (last === undefined || last < id) {
    ids.push(id);
    return;
  }
  const at = lowerBound(ids, id);
  if (ids[at] !== id) ids.splice(at, 0, id);
}

export function removeSorted(ids: string[], id: string): void {
  const at = lowerBound(ids, id);
  if (ids[at] === id) ids.splice(at, 1);
}

/** Merges two sorted arrays of distinct ids into a new sorted array without duplicates. */
export function mergeSorted(a: readonly string[], b: readonly string[]): string[] {
  const out: string[] = [];
  let i = 0;
  let j = 0;
  let x = a[i];
  let y = b[j];
  while (x !== undefined && y !== undefined) {
    if (x < y) {
      out.push(x);
      x = a[++i];
    } else if (y < x) {
      out.push(y);
      y = b[++j];
    } else {
      out.push(x);
      x = a[++i];
      y = b[++j];
    }
  }
  return out.concat(a.slice(i), b.slice(j));
}
