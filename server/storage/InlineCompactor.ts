import type { Logger } from '../log.ts';
import { compactRoom } from './compactRoom.ts';
import type { CompactionOutcome, Compactor } from './Compactor.ts';
import type { UpdateStore } from './UpdateStore.ts';

/**
 * Compacts on the main thread, one room per event-loop turn (setImmediate), for stores a worker
 * cannot open (MemoryUpdateStore).
 */
export class InlineCompactor implements Compactor {
  readonly #store: UpdateStore;
  readonly #logger: Logger;
  readonly #queue = new Set<string>();
  readonly #listeners = new Set<(outcome: CompactionOutcome) => void>();
  #timer: NodeJS.Immediate | null = null;

  constructor(store: UpdateStore, logger: Logger) {
    this.#store = store;
    this.#logger = logger;
  }

  request(roomId: string): void {
    this.#queue.add(roomId);
    this.#timer ??= setImmediate(() => this.#next());
  }

  onCompacted(listener: (outcome: CompactionOutcome) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async close(): Promise<void> {
    if (this.#timer) clearImmediate(this.#timer);
    this.#timer = null;
    this.#queue.clear();
  }

  #next(): void {
    this.#timer = null;
    const roomId = this.#queue.values().next().value;
    if (roomId === undefined) return;
    this.#queue.delete(roomId);
    let outcome: CompactionOutcome;
    try {
      outcome = { ok: true, ...compactRoom(this.#store, roomId) };
    } catch (err) {
      this.#logger.error({ room: roomId, err }, 'compaction failed');
      outcome = { ok: false, roomId, error: String(err) };
    }
    for (const listener of this.#listeners) listener(outcome);
    if (this.#queue.size > 0) this.#timer = setImmediate(() => this.#next());
  }
}
