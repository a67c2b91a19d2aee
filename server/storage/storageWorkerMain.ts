import { parentPort, workerData } from 'node:worker_threads';
import { z } from 'zod';
import { openDatabase } from './openDatabase.ts';
import { SqliteUpdateStore } from './SqliteUpdateStore.ts';
import { mergeRoom } from './compactRoom.ts';
import { splitUpdate } from '../../shared/yjs/splitUpdate.ts';
import { encodeFrame } from '../../shared/protocol/frames.ts';

/**
 * The storage worker thread's work (started through storageWorkerEntry.ts): reads rooms on its own SQLite
 * connection (a WAL reader, which never blocks the main thread's writes) and does the heavy work
 * on them; it writes nothing. Bytes go back transferred, not copied.
 */
export const StorageWorkerDataSchema = z.object({ dbFile: z.string(), synchronous: z.enum(['NORMAL', 'FULL']) });
const RequestSchema = z.discriminatedUnion('kind', [
  z.object({ id: z.number(), kind: z.literal('merge'), roomId: z.string() }),
  z.object({ id: z.number(), kind: z.literal('loadChunks'), roomId: z.string(), chunkBytes: z.number().int().min(1024) }),
]);

const port = parentPort;
if (port) {
  const { dbFile, synchronous } = StorageWorkerDataSchema.parse(workerData);
  const db = openDatabase(dbFile, { synchronous });
  const store = new SqliteUpdateStore(db);
  port.on('message', (raw: unknown) => {
    const request = RequestSchema.parse(raw);
    const { id, roomId } = request;
    try {
      const stored = store.load(roomId);
      const merged = mergeRoom(roomId, stored);
      if (request.kind === 'merge') {
        port.postMessage({ id, ok: true, ...merged }, merged.snapshot ? [merged.snapshot.buffer as ArrayBuffer] : []);
        return;
      }
      const state = merged.snapshot ?? stored.snapshot;
      // Framed here, as the whole-room reply's frames (a step 2, then updates): the main thread
      // applies the update inside each and sends the frames as they are, copying nothing.
      const frames = state ? splitUpdate(state, request.chunkBytes).map((update, i) => encodeFrame(i === 0 ? { type: 'syncStep2', update } : { type: 'update', update })) : [];
      port.postMessage(
        {
          id,
          ok: true,
          frames,
          clientOwners: stored.clientOwners,
          logUpdates: stored.updates.length,
          logBytes: stored.updates.reduce((sum, u) => sum + u.byteLength, 0),
          snapshotBytes: stored.snapshot?.byteLength ?? 0,
        },
        [...new Set(frames.map((f) => f.buffer as ArrayBuffer))],
      );
    } catch (err) {
      port.postMessage({ id, ok: false, roomId, error: err instanceof Error ? err.message : String(err) });
    }
  });
  port.on('close', () => db.close());
}

