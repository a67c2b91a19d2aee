import * as Y from 'yjs';
import type * as awarenessProtocol from 'y-protocols/awareness';
import type { ClientBinding, StoredRoom, UpdateStore } from '../storage/UpdateStore.ts';
import type { CommitParticipant } from './CommitQueue.ts';
import type { CommittedUpdate } from './commit/CommittedBatch.ts';
import { PeerSession } from './PeerSession.ts';
import { type AfterCommit, Uncommitted } from './Uncommitted.ts';
import { RoomAwareness } from './RoomAwareness.ts';
import type { RoomPeer } from './RoomPeer.ts';
import { StepTwoReplies } from './StepTwoReplies.ts';
import { updateInFrame } from './updateInFrame.ts';
import { STORAGE_ORIGIN } from './origins.ts';
import { type UpdateRefusal, refusalCloseCode } from '../../shared/protocol/updateRefusals.ts';
import { roomMaps } from '../../shared/roomDoc/layout.ts';
import { roomIndex } from '../../shared/roomDoc/RoomIndex.ts';
import { ClientOwners, SERVER_OWNER } from '../validation/ClientOwners.ts';
import type { Growth } from '../validation/validateUpdate.ts';
import { RoomSize, type SizeRefusal } from './RoomSize.ts';
import type { CommitListener, RoomOptions, RoomSlices, StoredShape } from './roomTypes.ts';

export type { CommitListener, RoomOptions, RoomSlices, StoredShape, UpdateGate } from './roomTypes.ts';
export type { Growth } from '../validation/validateUpdate.ts';

/**
 * One loaded room: its Y.Doc, its peers, and the path every update takes: size check → gate →
 * apply → group commit → the commit stages (relay, ack, ...). Frames are read by each peer's
 * PeerSession, awareness is judged by RoomAwareness; Room owns the document and its durability.
 */
export class Room implements CommitParticipant {
  readonly roomId: string;
  readonly doc: Y.Doc;
  readonly roomAwareness: RoomAwareness;
  /** Who owns each Yjs client id that wrote to this room; the server's own id is bound to SERVER_OWNER. */
  readonly clientOwners: ClientOwners;
  readonly #opts: RoomOptions;
  readonly #sessions = new Map<RoomPeer, PeerSession>();
  /** What is applied and not durable yet: pending, and in the commit under way. */
  readonly #uncommitted = new Uncommitted();
  #appliedSeq = 0;
  /** The stored size and what may still be added to it. */
  readonly #size: RoomSize;
  #logUpdates: number;
  #logBytes: number;
  /** Callbacks of the commit that just landed, run by its resumeWaiting stage. */
  #waiting: readonly AfterCommit[] = [];
  readonly #commitListeners = new Set<CommitListener>();
  readonly #joinListeners = new Set<(peer: RoomPeer) => void>();
  /** Holders other than peers (command connections) keeping the room loaded. */
  readonly #holders = new Set<object>();
  /** The answers to sync step 1s, the whole-room one shared. */
  readonly #replies: StepTwoReplies;
  #closed = false;

  private constructor(roomId: string, doc: Y.Doc, stored: StoredShape, opts: RoomOptions) {
    this.roomId = roomId;
    this.doc = doc;
    this.#opts = opts;
    this.#logUpdates = stored.logUpdates;
    this.#logBytes = stored.logBytes;
    this.#size = new RoomSize(roomId, stored.logBytes + stored.snapshotBytes, opts);
    this.#replies = new StepTwoReplies({ roomId, doc, storedBytes: () => this.#size.storedBytes, fromStorage: opts.wholeRoomFromStorage });
    this.clientOwners = new ClientOwners(stored.clientOwners);
    // The server writes too (re-tombstoning): under a client id nobody has used in this room.
    while (this.clientOwners.ownerOf(doc.clientID) !== undefined || Y.getState(doc.store, doc.clientID) > 0) {
      doc.clientID = Math.floor(Math.random() * 0x1_0000_0000);
    }
    this.clientOwners.bind(doc.clientID, SERVER_OWNER);
    this.roomAwareness = new RoomAwareness({ roomId, doc, owners: this.clientOwners, logger: opts.logger, peers: () => this.#sessions.keys() });
    // Registered before anyone else can listen: every later 'update' listener sees lastAppliedSeq
    // already naming the update it is handed (RoomEventFeed relies on it).
    doc.on('update', this.#onDocUpdate);
  }

  /** Loads the room from a synchronous store at once: snapshot, then every update logged after it. */
  static load(roomId: string, store: Pick<UpdateStore, 'load'>, opts: RoomOptions): Room {
    return Room.fromStored(roomId, store.load(roomId), opts);
  }

  /** Builds the room from what a store loaded (an asynchronous store's `load`, awaited by the caller). */
  static fromStored(roomId: string, stored: StoredRoom, opts: RoomOptions): Room {
    const doc = Room.#emptyDoc();
    doc.transact(() => {
      if (stored.snapshot) Y.applyUpdate(doc, stored.snapshot, STORAGE_ORIGIN);
      for (const update of stored.updates) Y.applyUpdate(doc, update, STORAGE_ORIGIN);
    }, STORAGE_ORIGIN);
    const logBytes = stored.updates.reduce((sum, u) => sum + u.byteLength, 0);
    return new Room(roomId, doc, { snapshotBytes: stored.snapshot?.byteLength ?? 0, logUpdates: stored.updates.length, logBytes, clientOwners: stored.clientOwners }, opts);
  }

  /** Builds the room from the storage worker's slices, one per turn; nothing sees it before it is whole. */
  static async loadInSlices(roomId: string, slices: RoomSlices, opts: RoomOptions): Promise<Room> {
    const doc = Room.#emptyDoc();
    // The message index follows each slice as it lands, rather than one scan of the whole room after.
    roomIndex(doc);
    for (const frame of slices.frames) {
      // Yield first: the worker's reply arrives in the poll phase, and the check phase follows it in the same turn.
      await new Promise((resolve) => setImmediate(resolve));
      Y.applyUpdate(doc, updateInFrame(frame), STORAGE_ORIGIN);
    }
    const room = new Room(roomId, doc, slices, opts);
    // The frames are the whole room as loaded: the first joiners with nothing get them as their
    // reply, rather than waiting for the storage worker to read and cut the room again.
    room.#replies.seed(slices.frames);
    return room;
  }

  static #emptyDoc(): Y.Doc {
    const doc = new Y.Doc({ gc: true });
    // Define the layout's root maps first, so that the validator reads every root as a Y.Map.
    roomMaps(doc);
    return doc;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The room's Yjs awareness (presence and typing); its rules live in `roomAwareness`. */
  get awareness(): awarenessProtocol.Awareness {
    return this.roomAwareness.awareness;
  }

  /** The number of the newest update applied to the document (CommittedUpdate.seq). */
  get lastAppliedSeq(): number {
    return this.#appliedSeq;
  }

  /** Whether `userId` may add `bytes` to the room (null) or the refusal (RoomSize.admit); a full room asks for a compaction. */
  admit(userId: string, bytes: number, growth: Growth = 'messages'): SizeRefusal | null {
    const refusal = this.#size.admit(userId, bytes, growth);
    // What deletions freed counts once compaction re-measures the room.
    if (refusal?.code === 'document_too_large') this.requestCompaction();
    return refusal;
  }

  get maxDocBytes(): number {
    return this.#size.maxDocBytes;
  }

  /** The room's stored size as the size limit sees it (re-measured by each compaction). */
  get storedBytes(): number {
    return this.#size.storedBytes;
  }

  /** Whether anything still needs the room loaded: a peer or a holder. */
  get inUse(): boolean {
    return this.#sessions.size > 0 || this.#holders.size > 0;
  }

  peers(): IterableIterator<RoomPeer> {
    return this.#sessions.keys();
  }

  /** Keeps the room loaded until `release` (see RoomRegistry.acquire); idempotent per holder. */
  hold(holder: object): void {
    this.#holders.add(holder);
  }

  /** Returns whether the holder was holding the room. */
  release(holder: object): boolean {
    return this.#holders.delete(holder);
  }

  /** Subscribes to commits (after the relay to peers); returns the unsubscribe function. */
  onCommit(listener: CommitListener): () => void {
    this.#commitListeners.add(listener);
    return () => this.#commitListeners.delete(listener);
  }

  /** Subscribes to peers joining (called after their greeting was queued); returns the unsubscribe function. */
  onJoined(listener: (peer: RoomPeer) => void): () => void {
    this.#joinListeners.add(listener);
    return () => this.#joinListeners.delete(listener);
  }

  /** Whether `peer` is joined (not left, not closed). */
  has(peer: RoomPeer): boolean {
    return this.#sessions.has(peer) && !peer.closed;
  }

  join(peer: RoomPeer): void {
    const session = new PeerSession(this, peer, this.#opts.pacer);
    this.#sessions.set(peer, session);
    session.greet();
    for (const listener of this.#joinListeners) listener(peer);
  }

  leave(peer: RoomPeer): void {
    if (!this.#sessions.delete(peer)) return;
    this.roomAwareness.leave(peer);
  }

  /** Handles one binary frame from a peer that joined. */
  receive(peer: RoomPeer, frame: Uint8Array): void {
    this.#sessions.get(peer)?.receive(frame);
  }

  /**
   * Applies a peer's update if it passes the gate and fits; a refused one is not applied, stored or relayed,
   * and its sender is told and disconnected, but with `tolerateMissing` one lacking only dependencies is 'missing'.
   */
  applyFrom(peer: RoomPeer, update: Uint8Array, opts: { tolerateMissing?: boolean } = {}): 'applied' | 'refused' | 'missing' {
    const verdict = this.#opts.gate(this, peer, update);
    if (!verdict.ok) {
      if (opts.tolerateMissing && verdict.refusal.code === 'missing_dependencies') return 'missing';
      this.#refuse(peer, verdict.refusal);
      return 'refused';
    }
    const unfit = this.admit(peer.user.id, update.byteLength, verdict.growth);
    if (unfit) {
      this.#refuse(peer, unfit);
      return 'refused';
    }
    try {
      Y.applyUpdate(this.doc, update, peer);
    } catch (err) {
      // The validator accepted it, so this is a bug: nothing of the update may stay half-applied.
      this.#opts.logger.error({ room: this.roomId, user: peer.user.id, err }, 'validated update failed to apply; dropping room from memory');
      this.#abandon('InternalError', 'internal error');
      return 'refused';
    }
    for (const clientId of verdict.newClients) {
      this.clientOwners.bind(clientId, peer.user.id);
      this.#uncommitted.bind({ roomId: this.roomId, clientId, userId: peer.user.id });
    }
    this.#opts.queue.schedule(this);
    return 'applied';
  }

  /** The frames answering a sync step 1 with `stateVector` (StepTwoReplies). */
  syncStep2For(stateVector: Uint8Array): readonly Uint8Array[] | Promise<readonly Uint8Array[]> {
    return this.#replies.for(stateVector);
  }

  #refuse(peer: RoomPeer, refusal: UpdateRefusal): void {
    this.#opts.logger.warn({ room: this.roomId, user: peer.user.id, code: refusal.code, reason: refusal.reason }, 'update refused');
    peer.close(refusalCloseCode(refusal.code), refusal.reason, refusal.code);
  }

  /**
   * Runs `fn` once everything applied so far is committed: now if nothing is pending or in
   * flight; else after the commit in flight (when nothing was applied since it took its updates)
   * or the next one.
   */
  whenCommitted(fn: () => void, failed?: () => void): void {
    if (!this.#uncommitted.wait({ done: fn, failed })) fn();
  }

  /** Whether updates applied to the document are not durable yet (pending or in flight). */
  get uncommitted(): boolean {
    return this.#uncommitted.any;
  }

  // Attached after the load transaction, so every update seen here is new and must be committed.
  readonly #onDocUpdate = (update: Uint8Array, origin: unknown): void => {
    this.#replies.invalidate();
    this.#size.added(update.byteLength);
    this.#uncommitted.add({ seq: ++this.#appliedSeq, update, origin });
    this.#opts.queue.schedule(this);
    // A clean-up write into a room that refused a write for its size: compacted at once, so that what it frees counts soon.
    if (this.#size.full) queueMicrotask(() => this.requestCompaction());
  };

  // CommitParticipant

  prepareCommit(): void {
    if (!this.#closed) this.#opts.beforeCommit?.(this);
  }

  takePending(): { updates: Uint8Array[]; bindings: ClientBinding[] } {
    const writers: RoomPeer[] = [];
    for (const session of this.#sessions.values()) {
      if (!session.awaitingAck) continue;
      session.awaitingAck = false;
      writers.push(session.peer);
    }
    return this.#uncommitted.take(writers, () => Y.encodeStateVector(this.doc));
  }

  committed(): void {
    const { updates, stateVector, writers, waiting } = this.#uncommitted.land();
    this.#waiting = waiting;
    this.#logUpdates += updates.length;
    for (const { update } of updates) this.#logBytes += update.byteLength;
    // Unloaded while an asynchronous commit was in flight: the updates are durable, nobody is left to tell.
    if (this.#closed) {
      this.resumeWaiting();
      return;
    }
    const batch = { room: this, updates, writers: writers.filter((peer) => this.has(peer)), stateVector };
    for (const stage of this.#opts.stages) {
      try {
        stage(batch);
      } catch (err) {
        // A stage is a bug when it throws; the others (and the other rooms of the commit) still run.
        this.#opts.logger.error({ room: this.roomId, err, stage: stage.name }, 'commit stage failed');
      }
    }
    // Normally resumeWaiting ran them; a room without that stage still releases them.
    this.resumeWaiting();
  }

  /** Hands committed updates to the commit listeners (commit/notifyCommitListeners.ts). */
  notifyCommitted(updates: readonly CommittedUpdate[]): void {
    for (const listener of [...this.#commitListeners]) listener(updates);
  }

  /** Runs the callbacks that waited for the commit that just landed (commit/resumeWaiting.ts). */
  resumeWaiting(): void {
    const callbacks = this.#waiting;
    this.#waiting = [];
    for (const { done } of callbacks) done();
  }

  commitFailed(error: unknown): void {
    this.#opts.logger.error({ room: this.roomId, err: error }, 'commit failed; dropping room from memory');
    this.#abandon('StorageUnavailable', 'the server could not store your changes');
  }

  /** The in-memory document can no longer be trusted: disconnect everyone and let the registry drop it. */
  #abandon(close: 'StorageUnavailable' | 'InternalError', reason: string): void {
    for (const peer of [...this.#sessions.keys()]) peer.close(close, reason);
    for (const { failed } of this.#uncommitted.abandonWaiting()) failed?.();
    this.#opts.onFailed?.(this);
  }

  /** A compaction finished: the stored size is re-measured (deleted content is gone), updates since stay counted. */
  compacted({ bytesBefore, bytesAfter }: { bytesBefore: number; bytesAfter: number }): void {
    this.#size.compacted(bytesBefore, bytesAfter);
  }

  /** Whether the log after the snapshot passed the compaction thresholds. */
  get logIsDueForCompaction(): boolean {
    return this.#logUpdates >= this.#opts.compactUpdates || this.#logBytes >= this.#opts.compactBytes;
  }

  /** Asks the compactor to merge the log into the snapshot, once everything applied is committed (it reads the whole room). */
  requestCompaction(): void {
    if (this.#closed || this.#logUpdates === 0) return;
    if (this.#uncommitted.anyPending) this.#opts.queue.flush();
    this.#opts.compactor.request(this.roomId);
    this.#logUpdates = 0;
    this.#logBytes = 0;
  }

  /** Releases the document and awareness; the room must have no peers left. */
  destroy(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#replies.close();
    this.#commitListeners.clear();
    this.#holders.clear();
    this.doc.off('update', this.#onDocUpdate);
    this.roomAwareness.destroy();
    this.doc.destroy();
  }
}
