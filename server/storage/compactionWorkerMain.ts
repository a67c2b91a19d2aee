import { parentPort, workerData } from 'node:worker_threads';
import { z } from 'zod';
import { openDatabase } from './openDatabase.ts';
import { SqliteUpdateStore } from './SqliteUpdateStore.ts';
import { compactRoom } from './compactRoom.ts';
import type { CompactionOutcome } from './Compactor.ts';

/** Entry point of the compaction worker thread: its own SQLite connection, one room at a time. */
export const CompactionWorkerDataSchema = z.object({ dbFile: z.string(), synchronous: z.enum(['NORMAL', 'FULL']) });
export const CompactionRequestSchema = z.object({ roomId: z.string() });

const port = parentPort;
if (port) {
  const { dbFile, synchronous } = CompactionWorkerDataSchema.parse(workerData);
  const db = openDatabase(dbFile, { synchronous });
  const store = new SqliteUpdateStore(db);
  port.on('message', (raw: unknown) => {
    const { roomId } = CompactionRequestSchema.parse(raw);
    let outcome: CompactionOutcome;
    try {
      outcome = { ok: true, ...compactRoom(store, roomId) };
    } catch (err) {
      outcome = { ok: false, roomId, error: err instanceof Error ? err.message : String(err) };
    }
    port.postMessage(outcome);
  });
  port.on('close', () => db.close());
}
