import type { RoomLease, RoomRegistry } from '../sync/RoomRegistry.ts';
import { type DocAccess, DocNotLoaded } from './loadedDocs.ts';

/**
 * The documents one task (a command) reads and writes, each held from the first time the task
 * reaches it until `release`, so none unloads while the task still reads it, across its awaits
 * too. The task reaches them through `access`: a loaded document at once; one not loaded is
 * loaded at once by the synchronous store (as the registry's `acquire`), and with an asynchronous
 * store (docs/scale-out.md) throws DocNotLoaded, which `run` answers by loading it and running the
 * task again. Unlike withLoaded, a step may await: what it read before a load stays held.
 */
export class HeldDocs {
  readonly #registry: RoomRegistry;
  readonly #leases = new Map<string, RoomLease>();
  readonly #holder = {};

  constructor(registry: RoomRegistry) {
    this.#registry = registry;
  }

  /** Reaches a document for the task and holds it (DocNotLoaded: not loaded, and the store loads asynchronously). */
  readonly access: DocAccess = (docName) => {
    const held = this.#leases.get(docName);
    if (held && !held.room.closed) return held.room;
    if (!this.#registry.get(docName) && !this.#registry.loadsAtOnce) throw new DocNotLoaded(docName);
    const lease = this.#registry.acquire(docName, this.#holder);
    this.#leases.set(docName, lease);
    return lease.room;
  };

  /**
   * Runs `step` until it reaches only loaded documents: each one it finds missing is loaded (and
   * held), then the step runs again from the start. Its first run starts in the caller's turn. So
   * a step must reach every document it writes before it writes anything, as for withLoaded.
   */
  async run<T>(step: (docs: DocAccess) => T | Promise<T>): Promise<T> {
    for (;;) {
      try {
        return await step(this.access);
      } catch (err) {
        if (!(err instanceof DocNotLoaded)) throw err;
        await this.#load(err.docName);
      }
    }
  }

  async #load(docName: string): Promise<void> {
    const held = this.#leases.get(docName);
    // Held and still open, yet reported missing: it would only be missed again.
    if (held && !held.room.closed) throw new Error(`${docName} is held but was reported not loaded`);
    const lease = await this.#registry.acquireReady(docName, this.#holder);
    this.#leases.set(docName, lease);
  }

  /** Lets every document go (each unloads once idle, as usual). Idempotent. */
  release(): void {
    for (const lease of this.#leases.values()) lease.release();
    this.#leases.clear();
  }
}
