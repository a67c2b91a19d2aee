import * as Y from 'yjs';
import { SegmentIndex, segmentDocName } from '../../shared/roomDoc/segments.ts';
import type { LocalStore } from '../store/LocalStore.ts';
import type { MessageIndexer } from './MessageIndexer.ts';

/**
 * The start-up pass of the device's index: reads what the device stores of each of the user's
 * rooms (its document, or a segmented room's head and then each of its segments stored here, newest
 * first) into the index, one document at a time, so that rooms nobody opens are searchable offline.
 * It runs after ChatClient.open() has answered, never before: each document is loaded from
 * IndexedDB (awaited), read in the indexer's turns, and dropped before the next one, so at most one
 * stored document is in memory and the page keeps its frames. A document a live replica follows is
 * skipped (the replica's copy is newer).
 */
export class StoredRoomsIndexer {
  readonly #store: LocalStore;
  readonly #indexer: MessageIndexer;
  #running: Promise<void> | null = null;
  #stopped = false;

  constructor(store: LocalStore, indexer: MessageIndexer) {
    this.#store = store;
    this.#indexer = indexer;
  }

  /** Whether the pass is under way. */
  get running(): boolean {
    return this.#running !== null;
  }

  /** Reads the given rooms (the user's, most recent first); resolves when done. Never rejects: a room that fails to load is skipped. */
  run(roomIds: readonly string[]): Promise<void> {
    this.#running ??= this.#run(roomIds).finally(() => {
      this.#running = null;
    });
    return this.#running;
  }

  /** Reads one room again (its stored data changed under the index: local changes discarded). */
  async room(roomId: string): Promise<void> {
    if (!this.#stopped) await this.#room(roomId).catch(() => undefined);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#running;
  }

  async #run(roomIds: readonly string[]): Promise<void> {
    for (const roomId of roomIds) {
      if (this.#stopped) return;
      await this.#room(roomId).catch(() => undefined);
    }
  }

  async #room(roomId: string): Promise<void> {
    const head = await this.#read(roomId, { keep: true });
    if (!head) return;
    const index = SegmentIndex.of(head);
    head.destroy();
    const segments = [...(index.open ? [index.open.n] : []), ...index.sealed.map((s) => s.n).reverse()];
    for (const n of segments) {
      if (this.#stopped) return;
      await this.#read(segmentDocName(roomId, n), { keep: false });
    }
  }

  /** Loads a stored document and reads it into the index; answers it when `keep` (the caller destroys it), else destroys it. */
  async #read(docName: string, { keep }: { keep: boolean }): Promise<Y.Doc | null> {
    const generation = this.#indexer.generation(docName);
    const log = await this.#store.loadRoom(docName);
    if (!log.snapshot && log.updates.length === 0) return null;
    const doc = new Y.Doc({ gc: true });
    doc.transact(() => {
      for (const update of [...(log.snapshot ? [log.snapshot] : []), ...log.updates.map((u) => u.update)]) {
        try {
          Y.applyUpdate(doc, update);
        } catch {
          // Skipped, as RoomReplica.load does: the rest stays searchable.
        }
      }
    });
    if (!this.#stopped) await this.#indexer.readStored(docName, doc, generation);
    if (keep) return doc;
    doc.destroy();
    return null;
  }
}
