import { lowerThreadPriority } from '../workers/lowerThreadPriority.ts';

/**
 * Entry point of the storage worker thread (StorageWorker.ts). Merging a big room takes a second
 * or more of CPU; on a busy machine the sync path must come first: the worker runs at the lowest
 * priority, set before it loads anything.
 */
lowerThreadPriority(19);
await import('./storageWorkerMain.ts');
