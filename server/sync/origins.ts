/**
 * Transaction origins on the server's room documents say where a change came from, so nothing
 * is echoed back to its sender or written to storage twice. A SyncConnection is its own origin.
 */
export const STORAGE_ORIGIN = Symbol('parley:storage');
export const SERVER_ORIGIN = Symbol('parley:server');
