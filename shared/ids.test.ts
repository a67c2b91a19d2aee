import { describe, expect, it } from 'vitest';
import { uuidv7, uuidv7Time } from './ids.ts';

describe('uuidv7', () => {
  it('carries its time and increases within one millisecond', () => {
    const t = Date.UTC(2026, 5, 1);
    const ids = Array.from({ length: 100 }, () => uuidv7(t));
    expect(ids.every((id) => uuidv7Time(id) === t)).toBe(true);
    expect([...ids].sort()).toEqual(ids);
  });

  it('stays increasing when the clock steps back a little, but lets the clock win after a big jump back', () => {
    const t = Date.UTC(2026, 6, 1);
    const ahead = uuidv7(t + 10 * 60_000);
    const small = uuidv7(t + 10 * 60_000 - 500);
    expect(small > ahead).toBe(true);
    // A clock that was ten minutes fast and got corrected: ids follow the clock again.
    const corrected = uuidv7(t);
    expect(uuidv7Time(corrected)).toBe(t);
  });
});
