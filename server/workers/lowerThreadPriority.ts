import { setPriority } from 'node:os';

/**
 * Lowers the calling worker thread to nice value `nice` (19: the lowest priority), so that the
 * main thread (commits, relays, acks) gets the CPU whenever it wants it and the worker the rest.
 * On Linux a nice value belongs to a thread; elsewhere (macOS) setpriority would lower the whole
 * process, so it is not done there. Call it first, before the worker loads anything.
 */
export function lowerThreadPriority(nice: number): void {
  if (process.platform !== 'linux') return;
  try {
    setPriority(nice);
  } catch {
    // Not permitted (a locked-down container): the worker keeps the default priority.
  }
}
