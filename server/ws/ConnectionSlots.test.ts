import { describe, expect, it } from 'vitest';
import { ConnectionSlots } from './ConnectionSlots.ts';
import { prng } from '../../test/support/prng.ts';

describe('ConnectionSlots', () => {
  it('grants up to the cap per user, independently for each user', () => {
    const slots = new ConnectionSlots(2);
    expect(slots.acquire('ana')).not.toBeNull();
    expect(slots.acquire('ana')).not.toBeNull();
    expect(slots.acquire('ana')).toBeNull();
    expect(slots.acquire('ben')).not.toBeNull();
    expect(slots.count('ana')).toBe(2);
    expect(slots.count('ben')).toBe(1);
  });

  it('a release frees one slot, and releasing twice frees only one', () => {
    const slots = new ConnectionSlots(1);
    const release = slots.acquire('ana');
    expect(release).not.toBeNull();
    release?.();
    release?.();
    expect(slots.count('ana')).toBe(0);
    expect(slots.acquire('ana')).not.toBeNull();
    expect(slots.acquire('ana')).toBeNull();
  });

  it('stays exact under any interleaving of acquires and (repeated) releases', () => {
    const rng = prng(7);
    const cap = 5;
    const slots = new ConnectionSlots(cap);
    const users = ['a', 'b', 'c'];
    const held = new Map<string, Array<() => void>>(users.map((u) => [u, []]));
    for (let step = 0; step < 20_000; step++) {
      const user = users[rng.int(users.length)] ?? 'a';
      const mine = held.get(user) ?? [];
      if (rng.chance(0.55)) {
        const release = slots.acquire(user);
        expect(release === null).toBe(mine.length >= cap);
        if (release) mine.push(release);
      } else if (mine.length > 0) {
        const i = rng.int(mine.length);
        const release = mine[i];
        release?.();
        // A socket's close handler may run its release again: it must not count twice.
        if (rng.chance(0.3)) release?.();
        mine.splice(i, 1);
      }
      expect(slots.count(user)).toBe(mine.length);
    }
  });
});
