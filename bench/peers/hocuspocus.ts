import { SQLite } from '@hocuspocus/extension-sqlite';
import { Server } from '@hocuspocus/server';

/*
 * Hocuspocus 3.4.4 (4.x needs Node >= 22; this machine runs Node 20) with its SQLite extension,
 * every setting at its default: debounce 2000 ms, maxDebounce 10000 ms (onStoreDocument writes the
 * whole document, Y.encodeStateAsUpdate, at most that long after a change), timeout 30000 ms,
 * unloadImmediately true, yDocOptions { gc: true }. No auth hook (the token is not checked).
 *
 * One change to shutdown only: Hocuspocus's own signal handler exits as soon as its documents are
 * unloaded, while the SQLite extension's store (`db.run`, not awaited) may still be queued, so
 * here SIGTERM destroys the server and then closes the database, which waits for queued writes.
 * Env: PORT, HOST, HOCUSPOCUS_DB (SQLite file; in memory when unset).
 */

const sqlite = new SQLite({ database: process.env.HOCUSPOCUS_DB ?? ':memory:' });
const server = new Server({
  port: Number(process.env.PORT ?? '1234'),
  address: process.env.HOST ?? '127.0.0.1',
  quiet: true,
  stopOnSignals: false,
  extensions: [sqlite],
});
await server.listen();

let stopping = false;
const stop = async (): Promise<void> => {
  if (stopping) return;
  stopping = true;
  await server.destroy();
  await new Promise<void>((resolve) => {
    if (!sqlite.db) return resolve();
    sqlite.db.close(() => resolve());
  });
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
