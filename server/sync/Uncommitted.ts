import type { ClientBinding } from '../storage/UpdateStore.ts';
import type { CommittedUpdate } from './commit/CommittedBatch.ts';
import type { RoomPeer } from './RoomPeer.ts';

/** A callback waiting for a commit; `failed` runs instead when the room is abandoned. */
export type AfterCommit = { done: () => void; failed: (() => void) | undefined };

/**
 * What the commit under way holds for a room, fixed when it took the room's updates: the
 * updates, the state vector they bring the document to (the acknowledgement's, computed only when
 * someone is to be acknowledged), the peers whose writes they are, and what waited for them.
 */
export interface InFlight {
  readonly updates: readonly CommittedUpdate[];
  readonly stateVector: Uint8Array | null;
  readonly writers: readonly RoomPeer[];
  readonly waiting: readonly AfterCommit[];
}

/**
 * A room's changes that are not durable yet, in two groups: pending (applied since the commit
 * queue last took the room's updates) and in flight (taken by a commit the store has not answered;
 * with SQLite that lasts within one turn, with PostgreSQL a round trip, docs/scale-out.md). What
 * is applied during a flight belongs to the next commit, and so do its writers and waiters.
 */
export class Uncommitted {
  #pending: CommittedUpdate[] = [];
  #bindings: ClientBinding[] = [];
  /** Callbacks waiting for the next commit to take the pending updates. */
  #afterNext: AfterCommit[] = [];
  #inFlight = { updates: [] as CommittedUpdate[], stateVector: null as Uint8Array | null, writers: [] as RoomPeer[], waiting: [] as AfterCommit[] };

  /** Whether anything applied is not durable yet. */
  get any(): boolean {
    return this.#pending.length > 0 || this.#inFlight.updates.length > 0;
  }

  get anyPending(): boolean {
    return this.#pending.length > 0;
  }

  add(update: CommittedUpdate): void {
    this.#pending.push(update);
  }

  bind(binding: ClientBinding): void {
    this.#bindings.push(binding);
  }

  /** Waits for the commit holding everything applied so far; false when that is all durable already. */
  wait(callback: AfterCommit): boolean {
    if (this.#pending.length > 0) this.#afterNext.push(callback);
    else if (this.#inFlight.updates.length > 0) this.#inFlight.waiting.push(callback);
    else return false;
    return true;
  }

  /**
   * Hands the pending updates and bindings to a commit. `writers` are the peers whose updates
   * they hold; `stateVector` is asked for only when one of them is to be acknowledged. A commit may take twice before
   * it lands (a commit stage flushing again, synchronously): both takes land together.
   */
  take(writers: readonly RoomPeer[], stateVector: () => Uint8Array): { updates: Uint8Array[]; bindings: ClientBinding[] } {
    const taken = this.#pending;
    const inFlight = this.#inFlight;
    inFlight.updates = inFlight.updates.length === 0 ? taken : [...inFlight.updates, ...taken];
    inFlight.writers.push(...writers);
    // Only Parley peers are acknowledged (stock y-websocket clients have no ack frame).
    if (inFlight.writers.some((peer) => peer.parley)) inFlight.stateVector = stateVector();
    inFlight.waiting.push(...this.#afterNext);
    this.#afterNext = [];
    this.#pending = [];
    const bindings = this.#bindings;
    this.#bindings = [];
    return { updates: taken.map((p) => p.update), bindings };
  }

  /** The commit in flight landed (or failed): what it held. */
  land(): InFlight {
    const landed = this.#inFlight;
    this.#inFlight = { updates: [], stateVector: null, writers: [], waiting: [] };
    return landed;
  }

  /** Everything that waits, in flight or for the next commit, for a room that is abandoned. */
  abandonWaiting(): AfterCommit[] {
    const waiting = [...this.land().waiting, ...this.#afterNext];
    this.#afterNext = [];
    return waiting;
  }
}
