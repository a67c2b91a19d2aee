import { setPriority } from 'node:os';

/**
 * Entry point of the storage worker thread (StorageWorker.ts). Merging a big room takes a second
 * or more of CPU; on a busy machine the sync path must come first. On Linux a nice value belongs
 * to a thread, so this lowers the worker alone to the lowest priority, before it loads anything:
 * the main thread (commits, relays, acks) gets the CPU whenever it wants it, and the worker the
 * rest. Elsewhere (macOS) setpriority would lower the whole process, so it is not done there.
 */
if (process.platform === 'linux') {
  try {
    setPriority(19);
  } catch {
    // Not permitted (a locked-down container): the worker keeps the default priority.
  }
}
await import('./storageWorkerMain.ts');
