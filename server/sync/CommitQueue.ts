import diagnosticsChannel from 'node:diagnostics_channel';
import { FencedOutError } from '../storage/FencedOutError.ts';
import { MissingUploadsError } from '../storage/MissingUploadsError.ts';
import { roomOfDoc } from '../../shared/roomDoc/segments.ts';
import type { UpdateStore, AppendEntry, AsyncUpdateStore, ClientBinding, Fences } from '../storage/UpdateStore.ts';

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
  /** Everything handed over (by every takePending since the last committed()) is durable. */
  committed(): void;
  /** The commit failed (disk full, I/O error): nothing handed over is durable. */
  commitFailed(error: unknown): void;
}

/** Where the queue writes: the synchronous SQLite store, or an asynchronous one (PostgreSQL). */
export type CommitStore = Pick<UpdateStore, 'append'> | Pick<AsyncUpdateStore, 'append'>;

/** Several nodes on one database (docs/scale-out.md): the tokens each commit carries, and what to do when one is refused. */
export interface CommitFencing {
  /** The fencing tokens of the rooms of `docNames` that this node owns, by room id. */
  fences(docNames: readonly string[]): Fences;
  /** The store refused the token of `roomId`: another node owns it now. */
  lost(roomId: string): void;
}

export interface CommitQueueOptions {
  /** A write named uploads whose records are gone (PgUpdateStore.append): whatever cached them forgets them. */
  readonly onMissingUploads?: (attachmentIds: readonly string[]) => void;
}

/** One participant's share of a batch. */
interface Share {
  readonly participant: CommitParticipant;
  readonly updates: readonly Uint8Array[];
  readonly bindings: readonly ClientBinding[];
}

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
  readonly #append: (entries: readonly AppendEntry[], bindings: readonly ClientBinding[]) => void | Promise<void>;
  readonly #fencing: CommitFencing | undefined;
  readonly #onMissingUploads: (attachmentIds: readonly string[]) => void;
  #scheduled = new Set<CommitParticipant>();
  #timer: NodeJS.Immediate | null = null;
  /** The batch an asynchronous store has not answered yet. */
  #inFlight: Promise<void> | null = null;

  constructor(store: Pick<UpdateStore, 'append'>);
  constructor(store: Pick<AsyncUpdateStore, 'append'>, fencing?: CommitFencing, opts?: CommitQueueOptions);
  constructor(store: CommitStore, fencing?: CommitFencing, opts: CommitQueueOptions = {}) {
    this.#fencing = fencing;
    this.#onMissingUploads = opts.onMissingUploads ?? (() => {});
    // Only the asynchronous store (PostgreSQL) is shared by nodes and takes fences (the overloads say so).
    const fenced = store as Pick<AsyncUpdateStore, 'append'>;
    this.#append = fencing
      ? (entries, bindings) => fenced.append(entries, bindings, fencing.fences([...new Set([...entries.map((e) => e.roomId), ...bindings.map((b) => b.roomId)])]))
      : (entries, bindings) => store.append(entries, bindings);
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
    const shares: Share[] = participants.map((participant) => ({ participant, ...participant.takePending() }));
    this.#write(shares);
  }

  /**
   * Writes the shares in one transaction, then tells each participant. When the store refuses
   * some rooms' fences, the participants of those rooms fail (another node owns them now) and the
   * rest is written again without them; so do the participants whose updates name uploads that are
   * gone (MissingUploadsError).
   */
  #write(shares: readonly Share[]): void {
    const entries: AppendEntry[] = [];
    const bindings: ClientBinding[] = [];
    for (const { participant, updates, bindings: own } of shares) {
      for (const update of updates) entries.push({ roomId: participant.roomId, update });
      bindings.push(...own);
    }
    const timed = commitChannel.hasSubscribers;
    const started = timed ? performance.now() : 0;
    const finish = (error: unknown): void => {
      const ok = error === undefined;
      if (timed) commitChannel.publish({ ms: performance.now() - started, updates: entries.length, ok, queue: this } satisfies CommitTiming);
      if (ok) for (const { participant } of shares) participant.committed();
      else if (error instanceof FencedOutError && this.#fencing) this.#fencedOut(shares, error);
      else if (error instanceof MissingUploadsError) this.#missingUploads(shares, error);
      else for (const { participant } of shares) participant.commitFailed(error);
    };
    let written: void | Promise<void>;
    try {
      written = this.#append(entries, bindings);
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

  #fencedOut(shares: readonly Share[], error: FencedOutError): void {
    const lost = new Set(error.roomIds);
    for (const roomId of lost) this.#fencing?.lost(roomId);
    this.#failSome(shares, error, (share) => lost.has(roomOfDoc(share.participant.roomId)));
  }

  #missingUploads(shares: readonly Share[], error: MissingUploadsError): void {
    this.#onMissingUploads(error.attachmentIds);
    const refused = new Set(error.docNames);
    // Nothing named a missing upload (a store's mistake): fail everything rather than loop.
    if (!shares.some((share) => refused.has(share.participant.roomId))) for (const share of shares) share.participant.commitFailed(error);
    else this.#failSome(shares, error, (share) => refused.has(share.participant.roomId));
  }

  /** The shares `refused` picks fail with `error`; the others are written again. */
  #failSome(shares: readonly Share[], error: Error, refused: (share: Share) => boolean): void {
    for (const share of shares) if (refused(share)) share.participant.commitFailed(error);
    const kept = shares.filter((share) => !refused(share));
    if (kept.length > 0) this.#write(kept);
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
