import type { MergeUpdates } from '../../store/LocalStore.ts';
import { mergeRoomUpdates } from '../../store/mergeRoomUpdates.ts';
import { MergeReplySchema } from './mergeMessages.ts';

interface Pending {
  resolve(merged: Uint8Array): void;
  reject(error: Error): void;
}

/**
 * A `MergeUpdates` for ChatClient's compaction policy that merges in a dedicated Web Worker,
 * started on first use and shared by every room. Where workers are missing, or the worker fails
 * to start or dies, it merges on the calling thread: compaction only tidies the log, so it must
 * never stop because of where it runs.
 */
export function workerMerge(): MergeUpdates {
  let worker: Worker | null = null;
  let broken = typeof Worker !== 'function';
  let nextId = 0;
  const pending = new Map<number, Pending>();

  const fail = (reason: string): void => {
    broken = true;
    worker?.terminate();
    worker = null;
    for (const p of pending.values()) p.reject(new Error(`merge worker: ${reason}`));
    pending.clear();
  };

  const start = (): Worker => {
    const started = new Worker(new URL('./mergeWorkerMain.ts', import.meta.url), { type: 'module', name: 'parley-merge' });
    started.onmessage = (event: MessageEvent<unknown>) => {
      const reply = MergeReplySchema.safeParse(event.data);
      if (!reply.success) return fail('an unreadable reply');
      const waiting = pending.get(reply.data.id);
      pending.delete(reply.data.id);
      if ('merged' in reply.data) waiting?.resolve(reply.data.merged);
      else waiting?.reject(new Error(reply.data.error));
    };
    started.onerror = (event) => fail(event.message || 'failed');
    return started;
  };

  return (updates) => {
    if (broken) return mergeRoomUpdates(updates);
    try {
      worker ??= start();
    } catch {
      broken = true;
      return mergeRoomUpdates(updates);
    }
    const id = nextId++;
    const running = worker;
    return new Promise<Uint8Array>((resolve, reject) => {
      pending.set(id, { resolve, reject });
      running.postMessage({ id, updates });
    }).catch(() => mergeRoomUpdates(updates));
  };
}
