import { describe, expect, it } from 'vitest';
import type { DirectoryApi } from './DirectoryApi.ts';
import { NAME_REFRESH_MS, UserNames } from './UserNames.ts';

/** A directory whose users.get answers from `names` when the test lets it (reads counted). */
function directory(names: Map<string, string>) {
  let reads = 0;
  const pending: Array<() => void> = [];
  const api = {
    users: {
      get: (id: string) =>
        new Promise((resolve) => {
          reads++;
          pending.push(() => resolve(names.has(id) ? { id, name: names.get(id) } : null));
        }),
    },
  } as unknown as DirectoryApi;
  return { api, reads: () => reads, answer: async () => { for (const p of pending.splice(0)) p(); await new Promise((r) => setImmediate(r)); } };
}

describe('UserNames', () => {
  it('answers null once and the name after its read; reads a name again once it is old, so a rename (or a user unknown at first) shows', async () => {
    const names = new Map<string, string>();
    const d = directory(names);
    let now = 0;
    const userNames = new UserNames(d.api, () => now);
    expect(userNames.name('ana')).toBeNull();
    expect(userNames.name('ana')).toBeNull();
    expect(d.reads()).toBe(1);
    await d.answer();
    // Not in the directory yet: null, held for a while.
    expect(userNames.name('ana')).toBeNull();
    expect(d.reads()).toBe(1);
    names.set('ana', 'Ana');
    now += NAME_REFRESH_MS;
    expect(userNames.name('ana')).toBeNull();
    await d.answer();
    expect(userNames.name('ana')).toBe('Ana');
    // Renamed: the old name is answered until the next read has.
    names.set('ana', 'Ana B.');
    now += NAME_REFRESH_MS;
    expect(userNames.name('ana')).toBe('Ana');
    await d.answer();
    expect(userNames.name('ana')).toBe('Ana B.');
    expect(d.reads()).toBe(3);
  });
});
