import { z } from 'zod';
import type { StorageWorker } from '../storage/StorageWorker.ts';
import type { DeleteRanges } from '../../shared/yjs/deleteRanges.ts';
import { parseRecentPage } from '../../shared/protocol/recentPage.ts';
import type { MessageView } from '../../shared/roomDoc/messageView.ts';
import { LOAD_SLICE_BYTES } from '../sync/workerRoomLoader.ts';

/** A document as stored, read for serving it without loading it: its whole state as reply frames, its state vector and delete set. */
export interface StoredState {
  readonly frames: readonly Uint8Array[];
  readonly stateVector: Uint8Array;
  readonly deleteSet: DeleteRanges;
}

/** Reads stored documents off the main thread (the storage worker): for StoredSegment, and RecentPages. */
export interface StoredStateReader {
  state(docName: string): Promise<StoredState>;
  /** What the stored document holds that `stateVector` lacks, as reply frames (a step 2, then updates). */
  diff(docName: string, stateVector: Uint8Array): Promise<readonly Uint8Array[]>;
  /** The newest `limit` messages of a room's segments `docNames` (newest first), oldest first. */
  newestMessages(roomId: string, docNames: readonly string[], limit: number): Promise<MessageView[]>;
}

const Failed = z.object({ ok: z.literal(false), error: z.string() });
const StateReply = z.union([
  z.object({ ok: z.literal(true), frames: z.array(z.instanceof(Uint8Array)), stateVector: z.instanceof(Uint8Array), deleteSet: z.map(z.number(), z.array(z.number())) }),
  Failed,
]);
const DiffReply = z.union([z.object({ ok: z.literal(true), frames: z.array(z.instanceof(Uint8Array)) }), Failed]);
const PageReply = z.union([z.object({ ok: z.literal(true), page: z.string() }), Failed]);

/** The storage worker as a StoredStateReader: frames cut as a big room's load slices are (LOAD_SLICE_BYTES). */
export function workerStateReader(worker: StorageWorker): StoredStateReader {
  const parse = <T extends z.ZodType>(schema: T, raw: unknown, docName: string): Exclude<z.infer<T>, { ok: false }> => {
    const reply = schema.safeParse(raw);
    if (!reply.success) throw new Error('malformed storage worker reply');
    const data = reply.data as { ok: boolean; error?: string };
    if (!data.ok) throw new Error(`reading ${docName} failed: ${data.error ?? 'unknown error'}`);
    return reply.data as Exclude<z.infer<T>, { ok: false }>;
  };
  return {
    async state(docName) {
      return parse(StateReply, await worker.request({ kind: 'servedState', roomId: docName, chunkBytes: LOAD_SLICE_BYTES }), docName);
    },
    async diff(docName, stateVector) {
      const reply = parse(DiffReply, await worker.request({ kind: 'diffChunks', roomId: docName, chunkBytes: LOAD_SLICE_BYTES, stateVector }), docName);
      return reply.frames;
    },
    async newestMessages(roomId, docNames, limit) {
      const reply = parse(PageReply, await worker.request({ kind: 'newestMessages', roomId, docNames, limit }), roomId);
      const page = parseRecentPage(reply.page);
      if (!page.ok) throw new Error(`the storage worker read ${roomId}: ${page.reason}`);
      return page.messages;
    },
  };
}
