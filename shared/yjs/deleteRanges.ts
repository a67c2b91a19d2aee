import * as Y from 'yjs';

/**
 * A Yjs delete set as sorted, merged clock ranges per client id: `[start, end, start, end, …]`
 * with `end` exclusive and no two ranges touching. Plain data (a Map of arrays), so it crosses a
 * worker boundary as it is.
 */
export type DeleteRanges = ReadonlyMap<number, readonly number[]>;

/** A decoded update's delete set (Yjs does not export its DeleteSet class's type). */
type DecodedDeleteSet = ReturnType<typeof Y.decodeUpdate>['ds'];

/** The delete set an update carries, as DeleteRanges (decodes the whole update: cost grows with it). */
export function deleteRanges(update: Uint8Array): DeleteRanges {
  return rangesOf(Y.decodeUpdate(update).ds);
}

/** A decoded delete set as DeleteRanges. */
export function rangesOf(ds: DecodedDeleteSet): Map<number, number[]> {
  const out = new Map<number, number[]>();
  for (const [client, items] of ds.clients) {
    const sorted = [...items].sort((a, b) => a.clock - b.clock);
    const flat: number[] = [];
    for (const { clock, len } of sorted) {
      const last = flat.length - 1;
      if (last > 0 && clock <= (flat[last] ?? 0)) flat[last] = Math.max(flat[last] ?? 0, clock + len);
      else flat.push(clock, clock + len);
    }
    out.set(client, flat);
  }
  return out;
}

/** Whether `[start, end)` lies inside one range of `flat`. */
function within(flat: readonly number[], start: number, end: number): boolean {
  // The last range starting at or before `start` (binary search over the even positions).
  let lo = 0;
  let hi = flat.length / 2;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((flat[2 * mid] ?? 0) <= start) lo = mid + 1;
    else hi = mid;
  }
  const i = lo - 1;
  return i >= 0 && end <= (flat[2 * i + 1] ?? 0);
}

/**
 * Whether applying `update` to a document whose state vector is `stateVector` and whose delete
 * set is `known` would change nothing: it carries no item the document lacks and deletes nothing
 * the document has not deleted. (A peer up to date answers a sync step 1 with such an update: its
 * whole delete set and no items.) Decodes `update`; false for one that does not decode.
 */
export function changesNothing(update: Uint8Array, stateVector: ReadonlyMap<number, number>, known: DeleteRanges): boolean {
  let decoded: ReturnType<typeof Y.decodeUpdate>;
  try {
    decoded = Y.decodeUpdate(update);
  } catch {
    return false;
  }
  for (const struct of decoded.structs) {
    if (struct instanceof Y.Skip) continue;
    if (struct.id.clock + struct.length > (stateVector.get(struct.id.client) ?? 0)) return false;
  }
  for (const [client, flat] of rangesOf(decoded.ds)) {
    const have = known.get(client);
    for (let i = 0; i < flat.length; i += 2) if (!have || !within(have, flat[i] ?? 0, flat[i + 1] ?? 0)) return false;
  }
  return true;
}
