import diagnosticsChannel from 'node:diagnostics_channel';
import type { UpdateStore, AppendEntry, ClientBinding } from '../storage/UpdateStore.ts';

/** What `parley:commit` publishes after each group commit (see COMMIT_CHANNEL). */
export interface CommitTiming {
  /** Time the SQLite transaction took on the main thread, its fsync included. */
  readonly ms: number;
  /** Updates written. */
  readonly updates: number;
  readonly ok: boolean;
  /** The queue that committed: the channel is the process's, and a process may run several servers (tests do). */
  readonly queue: CommitQueue;
}

/**
 * `node:diagnostics_channel` name on which every group commit's timing is published, for
 * instruments in the same process (the benchmarks' probe, bench/peers/probe.mjs; the server's
 * metrics, server/metrics). Nothing is measured while nobody subscribes.
 */
export const COMMIT_CHANNEL = 'parley:commit';
const commitChannel = diagnosticsChannel.channel(COMMIT_CHANNEL);

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
 * Group commit: every update applied during one turn of the event loop is written in a single
 * SQLite transaction at the end of that turn (setImmediate), then each room relays and
 * acknowledges. Relaying only after the commit means no client ever holds an update the
 * server could lose in a crash.
 */
export class CommitQueue {
  readonly #store: UpdateStore;
  #scheduled = new Set<CommitParticipant>();
  #timer: NodeJS.Immediate | null = null;

  constructor(store: UpdateStore) {
    this.#store = store;
  }

  schedule(participant: CommitParticipant): void {
    this.#scheduled.add(participant);
    this.#timer ??= setImmediate(() => this.flush());
  }

  /** Commits everything scheduled now, synchronously. */
  flush(): void {
    if (this.#timer) clearImmediate(this.#timer);
    this.#timer = null;
    if (this.#scheduled.size === 0) return;
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
    const timed = commitChannel.hasSubscribers;
    const started = timed ? performance.now() : 0;
    try {
      this.#store.append(entries, bindings);
    } catch (error) {
      if (timed) commitChannel.publish({ ms: performance.now() - started, updates: entries.length, ok: false, queue: this } satisfies CommitTiming);
      for (const p of participants) p.commitFailed(error);
      return;
    }
    if (timed) commitChannel.publish({ ms: performance.now() - started, updates: entries.length, ok: true, queue: this } satisfies CommitTiming);
    for (const p of participants) p.committed();
  }
}
