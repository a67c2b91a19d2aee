import diagnosticsChannel from 'node:diagnostics_channel';
import type { UpdateStore, AppendEntry, AsyncUpdateStore, ClientBinding } from '../storage/UpdateStore.ts';

/** What `parley:commit` publishes after each group commit (see COMMIT_CHANNEL). */
export interface CommitTiming {
  /**
   * SQLite: the time the transaction took on the main thread, its fsync included. An
   * asynchronous store (PostgreSQL): the time until the database answered, the main thread free meanwhile.
   */
  readonly ms: number;
  /** Updates written. */
  readonly updates: number;
  readonly ok: boolean;
}

/**
 * `node:diagnostics_channel` name on which every group commit's timing is published, for
 * instruments in the same process (the benchmarks' probe, bench/peers/probe.mjs). Nothing is
 * measured while nobody subscribes.
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
  /** Everything handed over (by every takePending since the last committed()) is durable. */
  committed(): void;
  /** The commit failed (disk full, I/O error): nothing handed over is durable. */
  commitFailed(error: unknown): void;
}

/** Where the queue writes: the synchronous SQLite store, or an asynchronous one (PostgreSQL). */
export type CommitStore = Pick<UpdateStore, 'append'> | Pick<AsyncUpdateStore, 'append'>;

/**
 * Group commit: every update applied during one turn of the event loop is written in a single
 * transaction at the end of that turn (setImmediate), then each room relays and acknowledges.
 * Relaying only after the commit means no client ever holds an update the server could lose in a
 * crash.
 *
 * With a synchronous store (SQLite) the commit ends within the turn. With an asynchronous one
 * (PostgreSQL, docs/scale-out.md) one batch is in flight at a time: what is applied meanwhile
 * waits for the next, which starts when the batch in flight is answered. Each participant carries
 * what was true of its batch when the batch was taken (Room.takePending), so nothing applied
 * during the flight is acknowledged with it.
 */
export class CommitQueue {
  readonly #store: CommitStore;
  #scheduled = new Set<CommitParticipant>();
  #timer: NodeJS.Immediate | null = null;
  /** The batch an asynchronous store has not answered yet. */
  #inFlight: Promise<void> | null = null;

  constructor(store: CommitStore) {
    this.#store = store;
  }

  schedule(participant: CommitParticipant): void {
    this.#scheduled.add(participant);
    this.#timer ??= setImmediate(() => this.flush());
  }

  /** Whether a batch is in flight or scheduled: something applied is not durable yet. */
  get busy(): boolean {
    return this.#inFlight !== null || this.#scheduled.size > 0;
  }

  /**
   * Commits everything scheduled now: synchronously with a synchronous store; with an
   * asynchronous one, starts the commit (or, while a batch is in flight, leaves it for the next).
   */
  flush(): void {
    if (this.#timer) clearImmediate(this.#timer);
    this.#timer = null;
    if (this.#scheduled.size === 0 || this.#inFlight) return;
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
    const finish = (error: unknown): void => {
      const ok = error === undefined;
      if (timed) commitChannel.publish({ ms: performance.now() - started, updates: entries.length, ok } satisfies CommitTiming);
      if (ok) for (const p of participants) p.committed();
      else for (const p of participants) p.commitFailed(error);
    };
    let written: void | Promise<void>;
    try {
      written = this.#store.append(entries, bindings);
    } catch (error) {
      finish(error ?? new Error('commit failed'));
      return;
    }
    if (!written) {
      finish(undefined);
      return;
    }
    this.#inFlight = written.then(
      () => this.#landed(() => finish(undefined)),
      (error: unknown) => this.#landed(() => finish(error ?? new Error('commit failed'))),
    );
  }

  /** Resolves once nothing applied before the call, or since, is waiting to be committed (shutdown). */
  async drain(): Promise<void> {
    while (this.busy) {
      this.flush();
      if (this.#inFlight) await this.#inFlight;
    }
  }

  /** The batch in flight was answered: its participants hear it, then what was scheduled meanwhile goes. */
  #landed(finish: () => void): void {
    this.#inFlight = null;
    finish();
    if (this.#scheduled.size > 0) this.#timer ??= setImmediate(() => this.flush());
  }
}
