/** The injectable clock of mutating operations: tests pass `now`, production uses Date.now(). */
export function clockNow(now: number | undefined): number {
  const ms = now ?? Date.now();
  if (!Number.isSafeInteger(ms) || ms < 0) throw new RangeError(`now must be a non-negative integer of ms, got ${ms}`);
  return ms;
}
