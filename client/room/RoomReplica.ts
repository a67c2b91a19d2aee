/*
 * Over 350 lines for a reason: the replica is one ordered write path (apply, store, send, ack,
 * compact, other tabs) whose steps share one queue; splitting it would scatter that order.
 */
import * as Y from 'yjs';
import { roomMaps } from '../../shared/roomDoc/layout.ts';
import { Emitter } from '../events/Emitter.ts';
import { ClientError, storageError } from '../errors/ClientError.ts';
import type { LocalStore, MergeUpdates, StoredRoomLog } from '../store/LocalStore.ts';
import { mergeRoomUpdates } from '../store/mergeRoomUpdates.ts';
import type { MessageRejection, RoomSyncRow } from '../store/storedRecords.ts';
import { RoomConnection, type SyncPeer } from '../sync/RoomConnection.ts';
import { TabMessageSchema, type TabMessage } from '../../shared/protocol/tabMessages.ts';

export type MessageState =
  | { readonly state: 'pending' }
  | { readonly state: 'sent' }
  | { readonly state: 'rejected'; readonly code: string; readonly reason: string };

export interface CompactionPolicy {
  /** Compact a room's local log once this many entries follow its snapshot. Default 500. */
  readonly maxEntries?: number;
  /** …or once they hold this many bytes. Default 1 MiB. */
  readonly maxBytes?: number;
  /**
   * How the log is merged. Default: `mergeRoomUpdates` on the calling thread. A browser app
   * passes one that runs it in a Web Worker (the reference app does: client/ui/workers), so that
   * compacting a 1 MB segment never holds the page's frames for tens of milliseconds.
   */
  readonly merge?: MergeUpdates;
}

export interface ReplicaEvents {
  [name: string]: unknown;
  /** The document changed (any origin): views should re-read. */
  changed: undefined;
  /** What the server holds changed: message states may have moved (pending -> sent/rejected). */
  states: undefined;
  error: ClientError;
}

/** Transaction origins: where a change came from, so nothing is stored or sent twice. */
export const STORE_ORIGIN = Symbol('parley:store');
export const TAB_ORIGIN = Symbol('parley:other-tab');

interface QueuedUpdate {
  readonly update: Uint8Array;
  readonly local: boolean;
  readonly stored: { resolve: () => void; reject: (error: ClientError) => void };
}

const RETRY_STORE_MS = 2_000;

/**
 * One room on this device: its Y.Doc, loaded from and written to the local store, and what the
 * server is known to hold of it.
 *
 * - Every update (local or from the server) is appended to the store's log; local ones are sent
 *   to the server only once stored (the durable outbox: the unacknowledged local items of the
 *   stored log are exactly the pending messages). A failed write (quota) keeps the update queued
 *   and retried, and is reported; nothing is sent until it is stored.
 * - `durable` is the pointwise maximum of every ack's state vector and of every update the server
 *   sent (the server relays only what it committed). An item is on the server iff `durable`
 *   covers its id; a message is `sent` iff its value item (and deletion, if any) are covered.
 * - Other tabs on the same database: a BroadcastChannel says "room R grew", and this replica
 *   reads the log entries it has not seen.
 */
export class RoomReplica implements SyncPeer {
  readonly roomId: string;
  readonly doc: Y.Doc;
  readonly #store: LocalStore;
  readonly #events = new Emitter<ReplicaEvents>();
  readonly #policy: Required<CompactionPolicy>;
  #durable: Map<number, number>;
  #rejected: Record<string, MessageRejection>;
  #refusal: MessageRejection | null;
  /** Highest log seq read from the store (never our own appends: see #onTabChange). */
  #readSeq: number;
  #queue: QueuedUpdate[] = [];
  #draining: Promise<void> | null = null;
  #idleWaiters: Array<() => void> = [];
  #retryTimer: ReturnType<typeof setTimeout> | null = null;
  #logEntries: number;
  #logBytes: number;
  #compacting: Promise<unknown> | null = null;
  #syncRowWrite: Promise<void> | null = null;
  #syncRowDirty = false;
  #lastLocalStored: Promise<void> | null = null;
  #connection: RoomConnection | null = null;
  #channel: BroadcastChannel | null = null;
  #tabReads: Promise<void> = Promise.resolve();
  #closed = false;
  /** Called when the server holds more of our client id than this device: the id must change. */
  onClientIdConflict: ((replica: RoomReplica) => Promise<void>) | null = null;

  private constructor(roomId: string, doc: Y.Doc, store: LocalStore, log: StoredRoomLog, sync: RoomSyncRow | null, opts: ReplicaOptions) {
    this.roomId = roomId;
    this.doc = doc;
    this.#store = store;
    this.#policy = {
      maxEntries: opts.compaction?.maxEntries ?? 500,
      maxBytes: opts.compaction?.maxBytes ?? 1024 * 1024,
      merge: opts.compaction?.merge ?? mergeRoomUpdates,
    };
    this.#durable = sync ? Y.decodeStateVector(sync.durable) : new Map();
    this.#rejected = sync?.rejected ?? {};
    this.#refusal = sync?.refusal ?? null;
    this.#readSeq = log.updates[log.updates.length - 1]?.seq ?? log.snapshotSeq;
    this.#logEntries = log.updates.length;
    this.#logBytes = log.updates.reduce((sum, u) => sum + u.update.byteLength, 0);
    doc.on('update', this.#onUpdate);
    if (opts.channelName && typeof BroadcastChannel !== 'undefined') {
      this.#channel = new BroadcastChannel(opts.channelName);
      this.#channel.onmessage = (event: MessageEvent<unknown>) => this.#onTabMessage(event.data);
    }
  }

  /** Loads the room from the store (snapshot, then the log after it) under the given client id. */
  static async load(store: LocalStore, roomId: string, clientId: number, opts: ReplicaOptions = {}): Promise<RoomReplica> {
    const [log, sync] = await Promise.all([store.loadRoom(roomId), store.getRoomSync(roomId)]);
    const doc = new Y.Doc({ gc: true });
    roomMaps(doc);
    doc.transact(() => {
      if (log.snapshot) applySafely(doc, log.snapshot);
      for (const { update } of log.updates) applySafely(doc, update);
    }, STORE_ORIGIN);
    // Only now: Yjs gives a doc a new random client id when a non-local transaction (this load)
    // adds items under its current one, taking them for another client's. Set before loading, the
    // device's own id would be thrown away on every load (the fault y-indexeddb has).
    doc.clientID = clientId;
    return new RoomReplica(roomId, doc, store, log, sync, opts);
  }

  on<K extends keyof ReplicaEvents>(name: K, listener: (payload: ReplicaEvents[K]) => void): () => void {
    return this.#events.on(name, listener);
  }

  /** The connection that sends this replica's stored local updates. */
  attach(connection: RoomConnection | null): void {
    this.#connection = connection;
  }

  /** Runs local writes; resolves once their update is stored on the device. */
  write<T>(fn: () => T): { result: T; stored: Promise<void> } {
    if (this.#closed) throw new ClientError('closed', 'the room is closed');
    this.#lastLocalStored = null;
    const result = fn();
    const stored = this.#lastLocalStored ?? Promise.resolve();
    this.#lastLocalStored = null;
    return { result, stored };
  }

  get refusal(): MessageRejection | null {
    return this.#refusal;
  }

  /** Whether close() was called: the document is (being) destroyed and emits nothing more. */
  get closed(): boolean {
    return this.#closed;
  }

  messageState(messageId: string): MessageState | null {
    const rejected = this.#rejected[messageId];
    if (rejected) return { state: 'rejected', code: rejected.code, reason: rejected.reason };
    const { messages, deletions } = roomMaps(this.doc);
    const value = messages._map.get(messageId);
    if (!value || value.deleted) return null;
    const deletion = deletions._map.get(messageId);
    const items = deletion && !deletion.deleted ? [value, deletion] : [value];
    if (items.every((item) => this.#covered(item.id))) return { state: 'sent' };
    // While a refusal stands, nothing of this device's is sent (the connection holds its writes).
    const refusal = this.#refusal;
    return refusal ? { state: 'rejected', code: refusal.code, reason: refusal.reason } : { state: 'pending' };
  }

  /**
   * Whether the server moved the message out of this document after storing it: its entry is
   * deleted (messages are never deleted from a room's map otherwise: a deletion keeps a tombstone)
   * and the server held it. A segmented room's server moves messages from the head into segments.
   */
  movedOut(messageId: string): boolean {
    const value = roomMaps(this.doc).messages._map.get(messageId);
    return value !== undefined && value.deleted && this.#covered(value.id);
  }

  /**
   * Whether a change made on this device is not on the server yet. What the server sent and the
   * device has not stored yet does not count (close() waits for it): counting it kept a
   * background sync of a room received in pieces waiting for an event that never came, until its
   * 20 s timeout, while the room stayed blank in the app.
   */
  hasPending(): boolean {
    const local = Y.decodeStateVector(Y.encodeStateVector(this.doc));
    for (const [client, clock] of local) if ((this.#durable.get(client) ?? 0) < clock) return true;
    return this.#queue.some((q) => q.local);
  }

  whenStored(): Promise<void> {
    if (this.#queue.length === 0 && !this.#draining) return Promise.resolve();
    return new Promise<void>((resolve) => this.#idleWaiters.push(resolve)).then(() => this.whenStored());
  }

  async checkServerState(stateVector: Map<number, number>): Promise<void> {
    const own = this.doc.clientID;
    if ((stateVector.get(own) ?? 0) > Y.getState(this.doc.store, own) && this.onClientIdConflict) {
      await this.onClientIdConflict(this);
    }
  }

  applyRemote(update: Uint8Array, origin: RoomConnection): void {
    // Everything the server sends is committed there (it relays and answers only after commit):
    // what the document gained from it is durable. Read from the document, not the update: a
    // piece of a big answer names no clock for a client whose items it does not start at 0
    // (Y.encodeStateVectorFromUpdate), and pieces held back for missing ones land later.
    // The update's own clocks count before it is applied, so that 'changed' listeners already
    // read its messages as sent.
    const durable = this.#durable;
    let grew = false;
    const raise = (stateVector: Map<number, number>, from?: Map<number, number>): void => {
      for (const [client, clock] of stateVector) {
        if ((from === undefined || clock > (from.get(client) ?? 0)) && (durable.get(client) ?? 0) < clock) {
          durable.set(client, clock);
          grew = true;
        }
      }
    };
    raise(Y.decodeStateVector(Y.encodeStateVectorFromUpdate(update)));
    const before = Y.decodeStateVector(Y.encodeStateVector(this.doc));
    Y.applyUpdate(this.doc, update, origin);
    raise(Y.decodeStateVector(Y.encodeStateVector(this.doc)), before);
    if (grew) this.#durableGrew();
  }

  acknowledged(stateVector: Map<number, number>): void {
    let grew = false;
    for (const [client, clock] of stateVector) {
      if ((this.#durable.get(client) ?? 0) < clock) {
        this.#durable.set(client, clock);
        grew = true;
      }
    }
    if (grew) this.#durableGrew();
  }

  /** Every message with a change the server does not hold becomes `rejected` with the refusal. */
  refused(code: string, reason: string): void {
    const rejection = { code: code.slice(0, 100), reason: reason.slice(0, 2000) };
    roomMaps(this.doc).messages.forEach((_value, id) => {
      if (this.messageState(id)?.state === 'pending') this.#rejected[id] = rejection;
    });
    this.#refusal = rejection;
    this.#saveSyncRow();
    this.#events.emit('states', undefined);
  }

  /**
   * Lifts the refusal: every change the server does not hold is pending again, to be sent on the
   * connection's next handshake (for a refusal that time or an owner fixed: a full room).
   */
  resend(): void {
    if (this.#refusal === null) return;
    this.#refusal = null;
    this.#rejected = {};
    this.#saveSyncRow();
    this.#events.emit('states', undefined);
  }

  /** Merges the local log into a snapshot now (it also runs by itself past the policy's thresholds). */
  async compact(): Promise<void> {
    await this.#compactOnce();
  }

  get logEntries(): number {
    return this.#logEntries;
  }

  /** Stops listening, waits for queued writes to finish (or fail), and destroys the document. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#channel?.close();
    this.#channel = null;
    await this.whenStoredOrFailed();
    await this.#compacting;
    await this.#syncRowWrite;
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.doc.off('update', this.#onUpdate);
    this.doc.destroy();
    this.#events.clear();
  }

  /** Like whenStored, but gives up on writes that keep failing (used on close). */
  async whenStoredOrFailed(): Promise<void> {
    if (this.#draining) await this.#draining;
  }

  #covered(id: Y.ID): boolean {
    return (this.#durable.get(id.client) ?? 0) > id.clock;
  }

  #durableGrew(): void {
    this.#saveSyncRow();
    this.#events.emit('states', undefined);
  }

  readonly #onUpdate = (update: Uint8Array, origin: unknown): void => {
    this.#events.emit('changed', undefined);
    if (origin === STORE_ORIGIN || origin === TAB_ORIGIN) return;
    const local = !isConnection(origin);
    const stored = new Promise<void>((resolve, reject) => {
      this.#queue.push({ update, local, stored: { resolve, reject } });
    });
    // A caller that does not await must not see an unhandled rejection: failures are events too.
    stored.catch(() => {});
    if (local) this.#lastLocalStored = stored;
    this.#drainSoon();
  };

  #drainSoon(): void {
    if (this.#draining || this.#retryTimer) return;
    this.#draining = this.#drain().finally(() => {
      this.#draining = null;
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const resolve of waiters) resolve();
    });
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue;
      this.#queue = [];
      try {
        await this.#store.appendUpdates(this.roomId, batch.map((q) => q.update));
      } catch (error) {
        // Kept at the head of the queue, in order, and retried; nothing is sent meanwhile.
        this.#queue = batch.concat(this.#queue);
        const failure = storageError(error, `storing room ${this.roomId}`);
        for (const q of batch) q.stored.reject(failure);
        this.#events.emit('error', failure);
        if (!this.#closed) {
          this.#retryTimer = setTimeout(() => {
            this.#retryTimer = null;
            this.#drainSoon();
          }, RETRY_STORE_MS);
        }
        return;
      }
      this.#logEntries += batch.length;
      this.#logBytes += batch.reduce((sum, q) => sum + q.update.byteLength, 0);
      const local = batch.filter((q) => q.local).map((q) => q.update);
      if (local.length > 0) {
        this.#connection?.sendUpdate(local.length === 1 ? local[0]! : Y.mergeUpdates(local));
        this.#tell({ roomId: this.roomId });
      } else {
        // Only what the server sent: other tabs with the room open get it on their own socket, but
        // tabs without it open refresh their room list from the store (ChatClient).
        this.#tell({ roomId: this.roomId, remote: true });
      }
      for (const q of batch) q.stored.resolve();
      if (this.#logEntries >= this.#policy.maxEntries || this.#logBytes >= this.#policy.maxBytes) void this.#compactInBackground();
    }
  }

  #compactInBackground(): Promise<unknown> {
    this.#compacting ??= this.#compactOnce()
      .catch((error: unknown) => this.#events.emit('error', storageError(error, `compacting room ${this.roomId}`)))
      .finally(() => {
        this.#compacting = null;
      });
    return this.#compacting;
  }

  async #compactOnce(): Promise<void> {
    const result = await this.#store.compactRoom(this.roomId, this.#policy.merge);
    if (!result) return;
    this.#logEntries = Math.max(0, this.#logEntries - result.merged);
    this.#logBytes = 0;
  }

  #saveSyncRow(): void {
    if (this.#syncRowWrite) {
      this.#syncRowDirty = true;
      return;
    }
    const row: RoomSyncRow = {
      roomId: this.roomId,
      durable: encodeStateVectorMap(this.#durable),
      rejected: { ...this.#rejected },
      refusal: this.#refusal,
    };
    // Losing this row costs nothing durable: the next connection's ack restores it.
    this.#syncRowWrite = this.#store
      .putRoomSync(row)
      .catch((error: unknown) => this.#events.emit('error', storageError(error, `storing sync state of ${this.roomId}`)))
      .finally(() => {
        this.#syncRowWrite = null;
        if (this.#syncRowDirty) {
          this.#syncRowDirty = false;
          this.#saveSyncRow();
        }
      });
  }

  #tell(message: TabMessage): void {
    this.#channel?.postMessage(message);
  }

  #onTabMessage(data: unknown): void {
    const message = TabMessageSchema.safeParse(data);
    if (!message.success || message.data.roomId !== this.roomId || message.data.remote === true) return;
    // Reads are chained so two messages never apply the same range twice concurrently.
    this.#tabReads = this.#tabReads.then(() => this.#readFromTabs()).catch((error: unknown) => {
      this.#events.emit('error', storageError(error, `reading room ${this.roomId} written by another tab`));
    });
  }

  /**
   * Another tab appended to this room: apply the entries after the last seq read. Seqs are
   * assigned in commit order, so reading "after #readSeq" never skips a committed entry; our own
   * appends are read back too, which Yjs ignores as duplicates.
   */
  async #readFromTabs(): Promise<void> {
    if (this.#closed) return;
    const log = await this.#store.loadRoomSince(this.roomId, this.#readSeq);
    if (this.#closed) return;
    this.doc.transact(() => {
      if (log.snapshot) applySafely(this.doc, log.snapshot);
      for (const { update } of log.updates) applySafely(this.doc, update);
    }, TAB_ORIGIN);
    this.#readSeq = Math.max(this.#readSeq, log.updates[log.updates.length - 1]?.seq ?? log.snapshotSeq);
  }
}

export interface ReplicaOptions {
  readonly compaction?: CompactionPolicy;
  /** BroadcastChannel name shared by every tab on the same database; none disables it. */
  readonly channelName?: string;
}

const isConnection = (origin: unknown): boolean => origin instanceof RoomConnection;

/** A stored entry that does not decode is skipped: one bad row must not make the room unreadable. */
function applySafely(doc: Y.Doc, update: Uint8Array): void {
  try {
    Y.applyUpdate(doc, update, STORE_ORIGIN);
  } catch {
    // Skipped: the rest of the room stays readable, and the server re-sends what it holds.
  }
}

function encodeStateVectorMap(stateVector: Map<number, number>): Uint8Array {
  // Y.encodeStateVector accepts a Map as well as a Doc.
  return Y.encodeStateVector(stateVector);
}
