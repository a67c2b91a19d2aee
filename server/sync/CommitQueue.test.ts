import { describe, expect, it } from 'vitest';
import { CommitQueue, type CommitParticipant, type DurableSync } from './CommitQueue.ts';
import { MemoryUpdateStore } from '../storage/MemoryUpdateStore.ts';

/** A participant that records what it was told, in order. */
function participant(roomId: string, log: string[]): CommitParticipant & { give(update: number): void } {
  let pending: Uint8Array[] = [];
  return {
    roomId,
    give(update) {
      pending.push(Uint8Array.of(update));
    },
    takePending() {
      const updates = pending;
      pending = [];
      log.push(`${roomId} took ${updates.map((u) => u[0]).join(',')}`);
      return { updates, bindings: [] };
    },
    committed: () => log.push(`${roomId} committed`),
    commitFailed: (error) => log.push(`${roomId} failed ${String(error)}`),
  };
}

/** A sync whose returns the test releases one at a time. */
function manualSync(log: string[]): DurableSync & { release(error?: Error): void; readonly waiting: number } {
  const waiting: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  return {
    sync: () => {
      log.push('sync');
      return new Promise((resolve, reject) => waiting.push({ resolve, reject }));
    },
    syncNow: () => log.push('syncNow'),
    release(error) {
      const next = waiting.shift();
      if (error) next?.reject(error);
      else next?.resolve();
    },
    get waiting() {
      return waiting.length;
    },
  };
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('CommitQueue with a DurableSync', () => {
  it('tells a batch only once its sync returned, and commits what came meanwhile as the next batch', async () => {
    const log: string[] = [];
    const store = new MemoryUpdateStore();
    const sync = manualSync(log);
    const queue = new CommitQueue(store, sync);
    const a = participant('a', log);
    const b = participant('b', log);
    a.give(1);
    queue.schedule(a);
    await turn();
    expect(log).toEqual(['a took 1', 'sync']);
    expect(store.load('a').updates).toHaveLength(1); // committed (readable), not yet durable
    // While it syncs, more arrives: it waits for the sync under way.
    a.give(2);
    b.give(3);
    queue.schedule(a);
    queue.schedule(b);
    await turn();
    expect(log).toEqual(['a took 1', 'sync']);
    sync.release();
    await turn();
    await turn();
    expect(log).toEqual(['a took 1', 'sync', 'a committed', 'a took 2', 'b took 3', 'sync']);
    sync.release();
    await turn();
    expect(log.slice(-2)).toEqual(['a committed', 'b committed']);
  });

  it('flush() commits and syncs at once, telling the batch still syncing too, each room once', async () => {
    const log: string[] = [];
    const sync = manualSync(log);
    const queue = new CommitQueue(new MemoryUpdateStore(), sync);
    const a = participant('a', log);
    const b = participant('b', log);
    a.give(1);
    queue.schedule(a);
    await turn();
    a.give(2);
    b.give(3);
    queue.schedule(a);
    queue.schedule(b);
    queue.flush();
    expect(log).toEqual(['a took 1', 'sync', 'a took 2', 'b took 3', 'syncNow', 'a committed', 'b committed']);
    // The sync that was under way returns later: nothing is told twice.
    sync.release();
    await turn();
    expect(log.filter((line) => line.endsWith('committed'))).toEqual(['a committed', 'b committed']);
  });

  it('a failed sync fails its batch, and the queue goes on with the next', async () => {
    const log: string[] = [];
    const sync = manualSync(log);
    const queue = new CommitQueue(new MemoryUpdateStore(), sync);
    const a = participant('a', log);
    a.give(1);
    queue.schedule(a);
    await turn();
    a.give(2);
    queue.schedule(a);
    sync.release(new Error('EIO'));
    await turn();
    await turn();
    expect(log).toEqual(['a took 1', 'sync', 'a failed Error: EIO', 'a took 2', 'sync']);
    sync.release();
    await turn();
    expect(log.at(-1)).toBe('a committed');
  });
});

describe('CommitQueue without one', () => {
  it('tells each batch as its transaction commits, in the same turn', async () => {
    const log: string[] = [];
    const queue = new CommitQueue(new MemoryUpdateStore());
    const a = participant('a', log);
    a.give(1);
    queue.schedule(a);
    await turn();
    expect(log).toEqual(['a took 1', 'a committed']);
  });
});
