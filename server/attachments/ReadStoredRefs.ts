import { z } from 'zod';
import type { StorageWorker } from '../storage/StorageWorker.ts';
import type { SqliteUpdateStore } from '../storage/SqliteUpdateStore.ts';
import { storedAttachmentRefs, type StoredAttachmentRefs } from '../storage/storedAttachmentRefs.ts';

/** Reads what a stored document says about attachment references; `recorded`: ids of messages whose rows name it. */
export type ReadStoredRefs = (docName: string, recorded: readonly string[]) => Promise<StoredAttachmentRefs>;

const RefsReply = z.union([
  z.object({
    ok: z.literal(true),
    stateVector: z.instanceof(Uint8Array),
    held: z.array(z.object({ id: z.string(), attachmentIds: z.array(z.string()) })),
    present: z.array(z.string()),
  }),
  z.object({ ok: z.literal(false), error: z.string() }),
]);

/** Through the storage worker (the running server): the document is decoded off the main thread. */
export function workerStoredRefs(worker: StorageWorker): ReadStoredRefs {
  return async (docName, recorded) => {
    const reply = RefsReply.safeParse(await worker.request({ kind: 'attachmentRefs', roomId: docName, recorded }));
    if (!reply.success) throw new Error('malformed storage worker reply');
    if (!reply.data.ok) throw new Error(`reading ${docName} failed: ${reply.data.error}`);
    return reply.data;
  };
}

/** On this thread (`parley gc-attachments`: the server is stopped, nothing else waits for the event loop). */
export function directStoredRefs(store: SqliteUpdateStore): ReadStoredRefs {
  return async (docName, recorded) => storedAttachmentRefs(store.load(docName), recorded);
}
