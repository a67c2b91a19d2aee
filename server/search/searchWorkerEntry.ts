import { lowerThreadPriority } from '../workers/lowerThreadPriority.ts';

/**
 * Entry point of the search worker thread (SearchWorker.ts). FTS5 writes and their segment
 * merges (tens of ms now and then) and searches run here; on a busy machine the sync path comes
 * first. Nice 10 rather than the storage worker's 19: a search is a user waiting, and at 19 a
 * loaded main thread would starve it; at 10 it still gets about a tenth of a shared core.
 */
lowerThreadPriority(10);
await import('./searchWorkerMain.ts');
