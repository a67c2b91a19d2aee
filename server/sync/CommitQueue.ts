import type { UpdateStore, AppendEntry, ClientBinding } from '../storage/UpdateStore.ts';

/** A room with updates (or acknowledgements) waiting for the next group commit. */
export interface CommitParticipant {
  readonly roomId: string;
  /**
   * Hands over the updates applied since the last commit and the client-id bindings they made
   * (the participant forgets them).
   */
  takePending(): { updates: Uint8Array[]; bindings: ClientBinding[] };
  /**
   * Called before the commit takes the pending updates: derived writes made now (a thread's
   * summary after a reply) join the same transaction, in this room or in another one (its head).
   */
  prepareCommit?(): void;
  /** Everything handed over is durable. */
  committed(): void;
  /** The commit failed (disk full, I/O error): nothing handed over is durable. */
  commitFailed(error: unknown): void;
}

/**
 * Makes committed transactions durable after the fact (storage/WalSync: an fdatasync of the
 * WAL), for a store whose appends commit without an fsync of their own.
 */
export interface DurableSync {
  /** Resolves once everything committed before the call is durable (off the main thread). */
  sync(): Promise<void>;
  /** The same, synchronously. */
  syncNow(): void;
}

/**
 * Group commit: every update applied during one turn of the event loop is written in a single
 * SQLite transaction at the end of that turn (setImmediate), then each room relays and
 * acknowledges. Relaying only after the commit means no client ever holds an update the
 * server could lose in a crash.
 *
 * With a DurableSync, a transaction commits without an fsync and the fsync runs on the thread
 * pool: the rooms of a batch relay and acknowledge once it returns, while the main thread goes on
 * serving (an fsync per commit on the main thread held it about 2 ms each, 40% of every second at
 * 200 commits a second). One batch is syncing at a time; what arrives meanwhile is committed as
 * the next batch once it returns, so busier moments make bigger batches. `flush()` (before a room
 * is compacted or unloaded, and at shutdown) commits and syncs at once, synchronously, for every
 * batch not yet durable.
 */
export class CommitQueue {
  readonly #store: UpdateStore;
  readonly #durable: DurableSync | null;
  #scheduled = new Set<CommitParticipant>();
  #timer: NodeJS.Immediate | null = null;
  /** The participants of the batch whose sync is under way (committed, not yet durable). */
  #syncing: CommitParticipant[] | null = null;

  constructor(store: UpdateStore, durable: DurableSync | null = null) {
    this.#store = store;
    this.#durable = durable;
  }

  schedule(participant: CommitParticipant): void {
    this.#scheduled.add(participant);
    // While a batch syncs, the next one waits for it (its end schedules the commit).
    if (this.#syncing === null) this.#timer ??= setImmediate(() => this.#commitNext());
  }

  /** Commits everything scheduled now and makes it durable, synchronously (with what is still syncing). */
  flush(): void {
    const participants = this.#commit();
    const syncing = this.#syncing ?? [];
    if (!this.#durable || participants === null || (participants.length === 0 && syncing.length === 0)) return;
    // A room may be in both batches: it is told once, for everything it handed over.
    const all = new Set([...syncing, ...participants]);
    // The sync under way finds its batch told already when it returns.
    this.#syncing = null;
    try {
      this.#durable.syncNow();
    } catch (error) {
      for (const p of all) p.commitFailed(error);
      return;
    }
    for (const p of all) p.committed();
  }

  #commitNext(): void {
    this.#timer = null;
    const participants = this.#commit();
    if (!this.#durable || participants === null || participants.length === 0) return;
    const batch = participants;
    this.#syncing = batch;
    this.#durable.sync().then(
      () => this.#synced(batch, null),
      (error: unknown) => this.#synced(batch, error),
    );
  }

  #synced(batch: CommitParticipant[], error: unknown): void {
    // flush() made it durable meanwhile (and told its participants).
    if (this.#syncing !== batch) return;
    this.#syncing = null;
    for (const p of batch) {
      if (error === null) p.committed();
      else p.commitFailed(error);
    }
    if (this.#scheduled.size > 0) this.#timer ??= setImmediate(() => this.#commitNext());
  }

  /**
   * Commits what is scheduled in one transaction. Without a DurableSync it is durable now and its
   * participants are told (null is answered); with one, its participants are answered (told once
   * synced). A failed commit tells them at once (null).
   */
  #commit(): CommitParticipant[] | null {
    if (this.#timer) clearImmediate(this.#timer);
    this.#timer = null;
    if (this.#scheduled.size === 0) return [];
    // Derived writes may schedule more participants (or the same again): prepare until none is new.
    const participants: CommitParticipant[] = [];
    const prepared = new Set<CommitParticipant>();
    while (this.#scheduled.size > 0) {
      const batch = [...this.#scheduled];
      this.#scheduled = new Set();
      for (const p of batch) {
        if (!prepared.has(p)) {
          prepared.add(p);
          participants.push(p);
        }
        p.prepareCommit?.();
      }
    }
    if (this.#timer) clearImmediate(this.#timer);
    this.#timer = null;
    const entries: AppendEntry[] = [];
    const bindings: ClientBinding[] = [];
    for (const p of participants) {
      const pending = p.takePending();
      for (const update of pending.updates) entries.push({ roomId: p.roomId, update });
      bindings.push(...pending.bindings);
    }
    try {
      this.#store.append(entries, bindings);
    } catch (error) {
      for (const p of participants) p.commitFailed(error);
      return null;
    }
    if (this.#durable) return participants;
    for (const p of participants) p.committed();
    return null;
  }
}
