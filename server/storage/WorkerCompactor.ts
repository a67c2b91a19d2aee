import { z } from 'zod';
import type { Logger } from '../log.ts';
import type { CompactionOutcome, Compactor } from './Compactor.ts';
import type { SqliteUpdateStore } from './SqliteUpdateStore.ts';
import type { StorageWorker } from './StorageWorker.ts';

/** The worker's answer to a merge: the merged room (its snapshot transferred, not copied), or why not. */
const MergeReplySchema = z.union([
  z.object({
    ok: z.literal(true),
    roomId: z.string(),
    snapshot: z.instanceof(Uint8Array).nullable(),
    upToSeq: z.number(),
    updatesMerged: z.number(),
    bytesBefore: z.number(),
    bytesAfter: z.number(),
  }),
  z.object({ ok: z.literal(false), roomId: z.string(), error: z.string() }),
]);

/** Writes a merged snapshot over the log it covers (`upToSeq`), as the store's own compact does. */
export type WriteCompaction = (docName: string, snapshot: Uint8Array, upToSeq: number) => Promise<void>;

/**
 * SQLite's write: one step of at most one 256 KiB chunk per event-loop turn
 * (SqliteUpdateStore.compactionSteps), so commits and frames interleave with them.
 */
export const steppedSqliteWrite =
  (store: SqliteUpdateStore): WriteCompaction =>
  async (docName, snapshot, upToSeq) => {
    for (const _step of store.compactionSteps(docName, snapshot, upToSeq)) await new Promise((resolve) => setImmediate(resolve));
  };

/**
 * Compacts without stalling the sync path, by design rather than by thresholds:
 * - the storage worker only reads (its own SQLite connection; in WAL mode a reader never blocks
 *   the writer) and merges (hundreds of ms of CPU for 100,000 messages, off the main thread);
 * - the main thread writes the result on its own connection, in steps of at most one 256 KiB
 *   chunk each, one step per event-loop turn (SqliteUpdateStore.compactionSteps). No other
 *   connection ever writes, so the group commit never waits for SQLite's write lock (which
 *   better-sqlite3 would do synchronously, holding the event loop), and no step's work grows
 *   with the room's size.
 * On PostgreSQL the write is one asynchronous transaction (PgUpdateStore.compact, fenced on
 * several nodes): it never holds the event loop. One room at a time.
 */
export class WorkerCompactor implements Compactor {
  readonly #worker: StorageWorker;
  /** Writes on the main thread's connection: the only one that writes. */
  readonly #write: WriteCompaction;
  readonly #logger: Logger;
  readonly #queue = new Set<string>();
  readonly #listeners = new Set<(outcome: CompactionOutcome) => void>();
  #inFlight: Promise<void> | null = null;
  #closed = false;

  constructor(worker: StorageWorker, write: WriteCompaction, logger: Logger) {
    this.#worker = worker;
    this.#write = write;
    this.#logger = logger;
  }

  request(roomId: string): void {
    if (this.#closed) return;
    this.#queue.add(roomId);
    this.#pump();
  }

  onCompacted(listener: (outcome: CompactionOutcome) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Finishes the compaction under way and drops the queue (the log keeps everything). The worker is its owner's to close. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#queue.clear();
    await this.#inFlight;
  }

  #pump(): void {
    if (this.#inFlight || this.#closed) return;
    const roomId = this.#queue.values().next().value;
    if (roomId === undefined) return;
    this.#queue.delete(roomId);
    this.#inFlight = this.#compact(roomId).then((outcome) => {
      this.#inFlight = null;
      if (outcome.ok) this.#logger.debug(outcome, 'room compacted');
      else this.#logger.error(outcome, 'compaction failed');
      for (const listener of this.#listeners) listener(outcome);
      this.#pump();
    });
  }

  async #compact(roomId: string): Promise<CompactionOutcome> {
    let reply: z.infer<typeof MergeReplySchema>;
    try {
      const parsed = MergeReplySchema.safeParse(await this.#worker.request({ kind: 'merge', roomId }));
      if (!parsed.success) return { ok: false, roomId, error: 'malformed worker reply' };
      reply = parsed.data;
    } catch (err) {
      return { ok: false, roomId, error: err instanceof Error ? err.message : String(err) };
    }
    if (!reply.ok) return reply;
    const { snapshot, ...result } = reply;
    if (!snapshot) return { ...result, ok: true };
    try {
      await this.#write(roomId, snapshot, result.upToSeq);
    } catch (err) {
      return { ok: false, roomId, error: err instanceof Error ? err.message : String(err) };
    }
    return { ...result, ok: true };
  }
}
