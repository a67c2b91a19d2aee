import * as Y from 'yjs';
import * as awarenessProtocol from 'y-protocols/awareness';
import type { Logger } from '../log.ts';
import type { StoredRoom, UpdateStore } from '../storage/UpdateStore.ts';
import type { Compactor } from '../storage/Compactor.ts';
import type { CommitParticipant, CommitQueue } from './CommitQueue.ts';
import { SyncConnection } from './SyncConnection.ts';
import { SharedReply } from './SharedReply.ts';
import { SERVER_ORIGIN, STORAGE_ORIGIN } from './origins.ts';
import { decodeClientFrame, encodeFrame, type SyncFrame } from '../../shared/protocol/frames.ts';
import { decodeAwarenessUpdate, encodeAwarenessUpdate, type AwarenessEntry, type RawAwarenessEntry } from '../../shared/protocol/awarenessUpdate.ts';
import type { UpdateRefusal } from '../../shared/protocol/updateRefusals.ts';
import { roomMaps } from '../../shared/roomDoc/layout.ts';
import type { ClientBinding } from '../storage/UpdateStore.ts';
import { ClientOwners, SERVER_OWNER } from '../validation/ClientOwners.ts';
import type { Verdict } from '../validation/validateUpdate.ts';
import { parseAwarenessState, stampIdentity } from './awarenessEntries.ts';

/**
 * Decides whether a connection may apply an update to the room (the write-permission seam):
 * accepted with the client ids it newly binds to the sender, or refused.
 */
export type UpdateGate = (room: Room, conn: SyncConnection, update: Uint8Array) => Verdict;

export interface RoomOptions {
  store: UpdateStore;
  compactor: Compactor;
  queue: CommitQueue;
  logger: Logger;
  gate: UpdateGate;
  /** Compact the log once this many updates (or bytes) sit after the snapshot. */
  compactUpdates: number;
  compactBytes: number;
  /** Refuse updates once the stored room (snapshot plus log) would pass this many bytes. */
  maxDocBytes: number;
  /** After every commit that changed the document (derive last message, read positions...). */
  onCommitted?: (room: Room, updates: readonly Uint8Array[]) => void;
  /** The commit failed; the registry must drop this room (its memory holds undurable changes). */
  onFailed?: (room: Room) => void;
}

type PendingUpdate = { update: Uint8Array; origin: unknown };

/** Awareness changes are relayed together once per window: typing and presence may lag by this much. */
const AWARENESS_BATCH_MS = 50;

/** How long the shared whole-room reply outlives the last joiner that asked for it. */
const WHOLE_ROOM_KEEP_MS = 5_000;

/** Called after each commit with the updates it made durable, in the order they were applied. */
export type CommitListener = (updates: readonly Uint8Array[]) => void;

/** A callback waiting for the pending commit; `failed` runs instead when the room is abandoned. */
type AfterCommit = { done: () => void; failed: (() => void) | undefined };

const awarenessMessage = (update: Uint8Array): Uint8Array => encodeFrame({ type: 'awareness', update });

/**
 * One loaded room: its Y.Doc, its awareness, its connections, and the path every update takes:
 * gate → apply → group commit → relay to the others → acknowledge to the sender.
 */
export class Room implements CommitParticipant {
  readonly roomId: string;
  readonly doc: Y.Doc;
  readonly awareness: awarenessProtocol.Awareness;
  readonly connections = new Set<SyncConnection>();
  readonly #opts: RoomOptions;
  /** Who owns each Yjs client id that wrote to this room; the server's own id is bound to SERVER_OWNER. */
  readonly clientOwners: ClientOwners;
  #pending: PendingUpdate[] = [];
  #pendingBindings: ClientBinding[] = [];
  /** Stored size: the snapshot and log as loaded, plus every update committed since. */
  #storedBytes: number;
  #inFlight: PendingUpdate[] = [];
  #afterCommit: AfterCommit[] = [];
  readonly #commitListeners = new Set<CommitListener>();
  /** Holders other than sync connections (command connections) keeping the room loaded. */
  readonly #holders = new Set<object>();
  /** Awareness client ids the server sets on behalf of command connections; no socket may set them. */
  readonly #serverAwareness = new Set<number>();
  /** Which connection set each remote awareness client id. */
  readonly #awarenessOwner = new Map<number, SyncConnection>();
  #logUpdates: number;
  #logBytes: number;
  #closed = false;
  /** The sync step 2 answering an empty state vector, for the document as it is now. */
  readonly #wholeRoom = new SharedReply(WHOLE_ROOM_KEEP_MS);
  /** Awareness client ids changed since the last relay (see #flushAwareness). */
  readonly #awarenessBatch = new Set<number>();
  #awarenessTimer: NodeJS.Timeout | null = null;

  private constructor(roomId: string, doc: Y.Doc, stored: StoredRoom, opts: RoomOptions) {
    this.roomId = roomId;
    this.doc = doc;
    this.#opts = opts;
    this.#logUpdates = stored.updates.length;
    this.#logBytes = stored.updates.reduce((sum, u) => sum + u.byteLength, 0);
    this.#storedBytes = this.#logBytes + (stored.snapshot?.byteLength ?? 0);
    this.clientOwners = new ClientOwners(stored.clientOwners);
    // The server writes too (re-tombstoning): under a client id nobody has used in this room.
    while (this.clientOwners.ownerOf(doc.clientID) !== undefined || Y.getState(doc.store, doc.clientID) > 0) {
      doc.clientID = Math.floor(Math.random() * 0x1_0000_0000);
    }
    this.clientOwners.bind(doc.clientID, SERVER_OWNER);
    this.awareness = new awarenessProtocol.Awareness(doc);
    // The server's own awareness entry carries room presence (set by PresencePublisher), never null.
    this.awareness.setLocalState({});
    doc.on('update', this.#onDocUpdate);
    this.awareness.on('update', this.#onAwarenessUpdate);
  }

  /** Loads the room from storage: snapshot, then every update logged after it. */
  static load(roomId: string, opts: RoomOptions): Room {
    const stored = opts.store.load(roomId);
    const doc = new Y.Doc({ gc: true });
    // Define the layout's root maps first, so that the validator reads every root as a Y.Map.
    roomMaps(doc);
    doc.transact(() => {
      if (stored.snapshot) Y.applyUpdate(doc, stored.snapshot, STORAGE_ORIGIN);
      for (const update of stored.updates) Y.applyUpdate(doc, update, STORAGE_ORIGIN);
    }, STORAGE_ORIGIN);
    return new Room(roomId, doc, stored, opts);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Whether `bytes` more would keep the stored room within maxDocBytes (the check every sync update passes too). */
  hasRoomFor(bytes: number): boolean {
    return this.#storedBytes + bytes <= this.#opts.maxDocBytes;
  }

  get maxDocBytes(): number {
    return this.#opts.maxDocBytes;
  }

  /** Whether anything still needs the room loaded: a sync connection or a holder. */
  get inUse(): boolean {
    return this.connections.size > 0 || this.#holders.size > 0;
  }

  /** Keeps the room loaded until `release` (see RoomRegistry.acquire); idempotent per holder. */
  hold(holder: object): void {
    this.#holders.add(holder);
  }

  /** Returns whether the holder was holding the room. */
  release(holder: object): boolean {
    return this.#holders.delete(holder);
  }

  /** Subscribes to commits (after the relay to sync connections); returns the unsubscribe function. */
  onCommit(listener: CommitListener): () => void {
    this.#commitListeners.add(listener);
    return () => this.#commitListeners.delete(listener);
  }

  /**
   * Sets (or, with null, removes) an awareness state for a client id the server controls on
   * behalf of a command connection, relayed to every sync connection like any other state.
   */
  setServerAwareness(clientId: number, state: Record<string, unknown> | null): void {
    if (this.#closed) return;
    if (state === null) {
      if (!this.#serverAwareness.delete(clientId)) return;
      awarenessProtocol.removeAwarenessStates(this.awareness, [clientId], SERVER_ORIGIN);
      return;
    }
    this.#serverAwareness.add(clientId);
    const clock = (this.awareness.meta.get(clientId)?.clock ?? 0) + 1;
    awarenessProtocol.applyAwarenessUpdate(this.awareness, encodeAwarenessUpdate([{ clientId, clock, state }]), SERVER_ORIGIN);
  }

  /** A client id for setServerAwareness that no awareness entry or document writer uses here. */
  freshAwarenessClientId(): number {
    let id: number;
    do id = Math.floor(Math.random() * 0x1_0000_0000);
    while (this.awareness.meta.has(id) || this.clientOwners.ownerOf(id) !== undefined || id === this.doc.clientID);
    return id;
  }

  join(conn: SyncConnection): void {
    this.connections.add(conn);
    conn.send(encodeFrame({ type: 'syncStep1', stateVector: Y.encodeStateVector(this.doc) }));
    const clients = [...this.awareness.getStates().keys()];
    if (clients.length > 0) {
      conn.send(awarenessMessage(awarenessProtocol.encodeAwarenessUpdate(this.awareness, clients)));
    }
  }

  leave(conn: SyncConnection): void {
    if (!this.connections.delete(conn)) return;
    const owned = [...conn.awarenessClients].filter((id) => this.#awarenessOwner.get(id) === conn);
    for (const id of owned) this.#awarenessOwner.delete(id);
    if (owned.length > 0) awarenessProtocol.removeAwarenessStates(this.awareness, owned, null);
  }

  /** Handles one binary frame from a connection. Malformed input closes that connection only. */
  receive(conn: SyncConnection, frame: Uint8Array): void {
    const decoded = decodeClientFrame(frame);
    if (!decoded.ok) {
      conn.close('ProtocolError', decoded.reason);
      return;
    }
    const message = decoded.frame;
    switch (message.type) {
      case 'syncStep1':
      case 'syncStep2':
      case 'update':
        this.#receiveSync(conn, message);
        return;
      case 'awareness':
        this.#receiveAwareness(conn, message.update);
        return;
      case 'queryAwareness': {
        const clients = [...this.awareness.getStates().keys()];
        conn.send(awarenessMessage(awarenessProtocol.encodeAwarenessUpdate(this.awareness, clients)));
        return;
      }
      default: {
        const unknown: never = message;
        throw new Error(`unhandled frame ${JSON.stringify(unknown)}`);
      }
    }
  }

  #receiveSync(conn: SyncConnection, message: SyncFrame): void {
    switch (message.type) {
      case 'syncStep1':
        // Never answer with state that is not yet durable: wait for the pending commit.
        this.whenCommitted(() => this.#sendSyncStep2(conn, message.stateVector));
        return;
      case 'syncStep2':
      case 'update':
        this.#receiveUpdate(conn, message.update);
        return;
      default: {
        const unknown: never = message;
        throw new Error(`unhandled sync frame ${JSON.stringify(unknown)}`);
      }
    }
  }

  #sendSyncStep2(conn: SyncConnection, stateVector: Uint8Array): void {
    const encode = (): Uint8Array => encodeFrame({ type: 'syncStep2', update: Y.encodeStateAsUpdate(this.doc, stateVector) });
    // An empty state vector (one varUint 0) asks for the whole room: joiners with nothing share it.
    const whole = stateVector.byteLength === 1 && stateVector[0] === 0;
    let message: Uint8Array;
    try {
      message = whole ? this.#wholeRoom.get(encode) : encode();
    } catch {
      conn.close('ProtocolError', 'malformed state vector');
      return;
    }
    conn.send(message);
  }

  #receiveUpdate(conn: SyncConnection, update: Uint8Array): void {
    if (this.#storedBytes + update.byteLength > this.#opts.maxDocBytes) {
      this.#refuse(conn, { code: 'document_too_large', reason: `the room document reached its limit of ${this.#opts.maxDocBytes} bytes` });
      return;
    }
    const verdict = this.#opts.gate(this, conn, update);
    if (!verdict.ok) {
      this.#refuse(conn, verdict.refusal);
      return;
    }
    try {
      Y.applyUpdate(this.doc, update, conn);
    } catch (err) {
      // The validator accepted it, so this is a bug: nothing of the update may stay half-applied.
      this.#opts.logger.error({ room: this.roomId, user: conn.user.id, err }, 'validated update failed to apply; dropping room from memory');
      this.#abandon('InternalError', 'internal error');
      return;
    }
    for (const clientId of verdict.newClients) {
      this.clientOwners.bind(clientId, conn.user.id);
      this.#pendingBindings.push({ roomId: this.roomId, clientId, userId: conn.user.id });
    }
    conn.awaitingAck = true;
    this.#opts.queue.schedule(this);
  }

  /** A refused update is not applied, stored or relayed; the sender learns why and is disconnected. */
  #refuse(conn: SyncConnection, refusal: UpdateRefusal): void {
    this.#opts.logger.warn({ room: this.roomId, user: conn.user.id, code: refusal.code, reason: refusal.reason }, 'update refused');
    conn.close(refusal.code === 'document_too_large' ? 'DocumentTooLarge' : 'UpdateRefused', refusal.reason, refusal.code);
  }

  #receiveAwareness(conn: SyncConnection, update: Uint8Array): void {
    const entries = decodeAwarenessUpdate(update);
    if (!entries) {
      conn.close('ProtocolError', 'malformed awareness update');
      return;
    }
    const accepted: AwarenessEntry[] = [];
    for (const entry of entries) {
      const verdict = this.#judgeAwareness(conn, entry);
      if (verdict === 'echo') continue;
      if (verdict === 'spoof') {
        this.#opts.logger.warn({ room: this.roomId, user: conn.user.id, clientId: entry.clientId }, 'awareness spoof refused');
        continue;
      }
      const parsed = parseAwarenessState(entry.json);
      if (!parsed.ok) {
        this.#opts.logger.info({ room: this.roomId, user: conn.user.id, reason: parsed.reason }, 'awareness state refused');
        if (conn.parley) conn.send(encodeFrame({ type: 'error', code: 'awareness_refused', reason: parsed.reason }));
        continue;
      }
      accepted.push({ clientId: entry.clientId, clock: entry.clock, state: parsed.state && stampIdentity(parsed.state, conn.user) });
    }
    if (accepted.length === 0) return;
    for (const entry of accepted) {
      if (entry.state === null) continue;
      const previous = this.#awarenessOwner.get(entry.clientId);
      if (previous && previous !== conn) previous.awarenessClients.delete(entry.clientId);
      this.#awarenessOwner.set(entry.clientId, conn);
      conn.awarenessClients.add(entry.clientId);
    }
    awarenessProtocol.applyAwarenessUpdate(this.awareness, encodeAwarenessUpdate(accepted), conn);
  }

  /**
   * `echo`: nothing newer than the server holds, which is normal (a stock y-websocket client
   * sends back every awareness change it receives, the server's own entry included), dropped
   * silently. `spoof`: a newer state for a client id another user's connection controls, or that
   * writes to the document as another user, dropped and logged. `own`: the connection's own state, or a client id nobody holds, or a
   * reconnect of the same user taking its client id over.
   */
  #judgeAwareness(conn: SyncConnection, entry: RawAwarenessEntry): 'own' | 'echo' | 'spoof' {
    if (entry.clientId === this.doc.clientID) return 'echo';
    if (this.#serverAwareness.has(entry.clientId)) {
      const known = this.awareness.meta.get(entry.clientId)?.clock;
      return known !== undefined && entry.clock <= known ? 'echo' : 'spoof';
    }
    const owner = this.#awarenessOwner.get(entry.clientId);
    // A client id that writes to the document under another user's name is theirs in awareness too.
    const writer = this.clientOwners.ownerOf(entry.clientId);
    const othersId = (owner !== undefined && owner.user.id !== conn.user.id) || (writer !== undefined && writer !== conn.user.id);
    if (owner === conn && !othersId) return 'own';
    const known = this.awareness.meta.get(entry.clientId)?.clock;
    if (known !== undefined && entry.clock <= known) return 'echo';
    return othersId ? 'spoof' : 'own';
  }

  /** Runs `fn` once everything applied so far is committed (now, if nothing is pending). */
  whenCommitted(fn: () => void, failed?: () => void): void {
    if (this.#pending.length === 0) fn();
    else this.#afterCommit.push({ done: fn, failed });
  }

  /** Sets the server's own awareness state (room presence), relayed to every connection. */
  setServerState(state: Record<string, unknown>): void {
    this.awareness.setLocalState(state);
  }

  // Attached after the load transaction, so every update seen here is new and must be committed.
  readonly #onDocUpdate = (update: Uint8Array, origin: unknown): void => {
    this.#wholeRoom.invalidate();
    this.#pending.push({ update, origin });
    this.#opts.queue.schedule(this);
  };

  readonly #onAwarenessUpdate = (
    { added, updated, removed }: { added: number[]; updated: number[]; removed: number[] },
  ): void => {
    const changed = added.concat(updated, removed);
    if (changed.length === 0 || this.connections.size === 0) return;
    for (const id of changed) this.#awarenessBatch.add(id);
    if (this.#awarenessTimer) return;
    this.#awarenessTimer = setTimeout(this.#flushAwareness, AWARENESS_BATCH_MS);
    this.#awarenessTimer.unref();
  };

  /**
   * Relays every awareness entry that changed in the last window as one frame to every
   * connection. One frame per change would be N frames per change: 500 clients at 1 Hz make
   * 250,000 frames a second, which costs more than all the rest. The sender gets its own entry
   * back too, which awareness ignores (same clock), and which spares one encoding per recipient.
   */
  readonly #flushAwareness = (): void => {
    this.#awarenessTimer = null;
    const changed = [...this.#awarenessBatch];
    this.#awarenessBatch.clear();
    if (this.#closed || changed.length === 0 || this.connections.size === 0) return;
    const message = awarenessMessage(awarenessProtocol.encodeAwarenessUpdate(this.awareness, changed));
    for (const conn of this.connections) conn.send(message);
  };

  // CommitParticipant

  takePending(): { updates: Uint8Array[]; bindings: ClientBinding[] } {
    this.#inFlight = this.#pending;
    this.#pending = [];
    const bindings = this.#pendingBindings;
    this.#pendingBindings = [];
    return { updates: this.#inFlight.map((p) => p.update), bindings };
  }

  committed(): void {
    const done = this.#inFlight;
    this.#inFlight = [];
    for (const { update, origin } of done) {
      const message = encodeFrame({ type: 'update', update });
      for (const conn of this.connections) if (conn !== origin) conn.send(message);
      this.#logUpdates += 1;
      this.#logBytes += update.byteLength;
      this.#storedBytes += update.byteLength;
    }
    let ack: Uint8Array | null = null;
    for (const conn of this.connections) {
      if (!conn.awaitingAck) continue;
      conn.awaitingAck = false;
      if (!conn.parley) continue;
      ack ??= encodeFrame({ type: 'ack', stateVector: Y.encodeStateVector(this.doc) });
      conn.send(ack);
    }
    if (done.length > 0) {
      const updates = done.map((p) => p.update);
      for (const listener of [...this.#commitListeners]) listener(updates);
    }
    const callbacks = this.#afterCommit;
    this.#afterCommit = [];
    for (const { done: fn } of callbacks) fn();
    if (done.length > 0) {
      this.#opts.onCommitted?.(this, done.map((p) => p.update));
      if (this.#logUpdates >= this.#opts.compactUpdates || this.#logBytes >= this.#opts.compactBytes) this.requestCompaction();
    }
  }

  commitFailed(error: unknown): void {
    this.#opts.logger.error({ room: this.roomId, err: error }, 'commit failed; dropping room from memory');
    this.#inFlight = [];
    this.#abandon('StorageUnavailable', 'the server could not store your changes');
  }

  /** The in-memory document can no longer be trusted: disconnect everyone and let the registry drop it. */
  #abandon(close: 'StorageUnavailable' | 'InternalError', reason: string): void {
    for (const conn of [...this.connections]) conn.close(close, reason);
    const waiting = this.#afterCommit;
    this.#afterCommit = [];
    for (const { failed } of waiting) failed?.();
    this.#opts.onFailed?.(this);
  }

  /**
   * Asks the compactor to merge the room's log into its snapshot (off the sync path). Everything
   * applied so far must be committed first, so that what the compactor reads is the whole room.
   */
  requestCompaction(): void {
    if (this.#closed || this.#logUpdates === 0) return;
    if (this.#pending.length > 0) this.#opts.queue.flush();
    this.#opts.compactor.request(this.roomId);
    this.#logUpdates = 0;
    this.#logBytes = 0;
  }

  /** Releases the document and awareness; the room must have no connections left. */
  destroy(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#wholeRoom.close();
    if (this.#awarenessTimer) clearTimeout(this.#awarenessTimer);
    this.#awarenessTimer = null;
    this.#awarenessBatch.clear();
    this.#commitListeners.clear();
    this.#holders.clear();
    this.doc.off('update', this.#onDocUpdate);
    this.awareness.off('update', this.#onAwarenessUpdate);
    this.awareness.destroy();
    this.doc.destroy();
  }
}
