import { parentPort, workerData } from 'node:worker_threads';
import { z } from 'zod';
import { openDatabase } from './openDatabase.ts';
import { SqliteUpdateStore } from './SqliteUpdateStore.ts';
import { mergeRoom, type MergedRoom } from './compactRoom.ts';

/**
 * Entry point of the compaction worker thread: reads a room on its own SQLite connection (a WAL
 * reader, which never blocks the main thread's writes) and merges it; it writes nothing. The
 * snapshot goes back transferred, not copied; the main thread writes it (WorkerCompactor).
 */
export const CompactionWorkerDataSchema = z.object({ dbFile: z.string(), synchronous: z.enum(['NORMAL', 'FULL']) });
export const CompactionRequestSchema = z.object({ roomId: z.string() });

const port = parentPort;
if (port) {
  const { dbFile, synchronous } = CompactionWorkerDataSchema.parse(workerData);
  const db = openDatabase(dbFile, { synchronous });
  const store = new SqliteUpdateStore(db);
  port.on('message', (raw: unknown) => {
    const { roomId } = CompactionRequestSchema.parse(raw);
    let merged: MergedRoom;
    try {
      merged = mergeRoom(roomId, store.load(roomId));
    } catch (err) {
      port.postMessage({ ok: false, roomId, error: err instanceof Error ? err.message : String(err) });
      return;
    }
    port.postMessage({ ok: true, ...merged }, merged.snapshot ? [merged.snapshot.buffer as ArrayBuffer] : []);
  });
  port.on('close', () => db.close());
}
