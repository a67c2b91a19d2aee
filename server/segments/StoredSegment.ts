import * as Y from 'yjs';
import type { Logger } from '../log.ts';
import type { Room } from '../sync/Room.ts';
import type { RoomPeer } from '../sync/RoomPeer.ts';
import { SharedReply } from '../sync/SharedReply.ts';
import { StepOneRefused } from '../sync/roomTypes.ts';
import { answerFromRoom, knownEntries, sendFrames } from '../sync/stepOneAnswers.ts';
import { relayTo } from '../sync/commit/relayUpdates.ts';
import type { StoredDoc, StoredOutcome } from '../sync/StoredDocs.ts';
import type { FramePacer } from '../ws/FramePacer.ts';
import { decodeClientFrame, encodeFrame } from '../../shared/protocol/frames.ts';
import { type DeleteRanges, changesNothing, deleteRanges } from '../../shared/yjs/deleteRanges.ts';
import type { StoredState, StoredStateReader } from './StoredStateReader.ts';

/** How long a read of the stored state outlives its last use (joiners of one segment come together). */
const STATE_KEEP_MS = 5_000;

/**
 * A sealed segment served to its readers from storage, without loading its document: thousands
 * of messages that nobody writes to any more, read by every device that opens the room (the
 * newest sealed segment) or pages back. The storage worker reads it and cuts its state into
 * reply frames (shared by the joiners of a few seconds), with its state vector (the greeting's
 * step 1) and delete set; a peer's step 1 is answered from that, or from the worker's diff for a
 * peer that holds part of it. A peer's step 2 or update that changes nothing (an up-to-date
 * device answering the greeting: its delete set, no new items) is dropped; anything else (a
 * write, awareness) needs the document: the peer leaves here and joins the loaded room
 * (RoomAttachment). While the document is loaded for another reason (a write, a command, a move),
 * its commits are relayed to the peers here and their step 1s are answered from it.
 */
export class StoredSegment implements StoredDoc {
  readonly docName: string;
  readonly #reader: StoredStateReader;
  readonly #pacer: FramePacer | undefined;
  readonly #logger: Logger;
  readonly #peers = new Set<RoomPeer>();
  /** Per peer, the state vector it holds at least (see leave). */
  readonly #holds = new Map<RoomPeer, Uint8Array>();
  readonly #state = new SharedReply<StoredState>(STATE_KEEP_MS);
  #room: Room | null = null;
  #offCommit: (() => void) | null = null;

  constructor(deps: { docName: string; reader: StoredStateReader; pacer?: FramePacer; logger: Logger; loaded: Room | null }) {
    this.docName = deps.docName;
    this.#reader = deps.reader;
    this.#pacer = deps.pacer;
    this.#logger = deps.logger;
    if (deps.loaded) this.roomLoaded(deps.loaded);
  }

  get empty(): boolean {
    return this.#peers.size === 0;
  }

  peers(): IterableIterator<RoomPeer> {
    return this.#peers.values();
  }

  /** A peer joins: greeted with the segment's step 1 (its state vector) once that is known. */
  join(peer: RoomPeer): void {
    this.#peers.add(peer);
    const room = this.#room;
    if (room) return peer.send(encodeFrame({ type: 'syncStep1', stateVector: Y.encodeStateVector(room.doc) }));
    this.#withState(peer, (state) => peer.send(encodeFrame({ type: 'syncStep1', stateVector: state.stateVector })));
  }

  /**
   * The peer leaves. Returns the state vector it holds at least (what its step 1 named, then what
   * it was answered up to), null before its step 1: a peer moving to the loaded room asks it for
   * what changed since (RoomAttachment), which the relays here may no longer bring.
   */
  leave(peer: RoomPeer): Uint8Array | null {
    this.#peers.delete(peer);
    const holds = this.#holds.get(peer) ?? null;
    this.#holds.delete(peer);
    return holds;
  }

  /** One frame from a joined peer. Malformed input closes this peer only. */
  receive(peer: RoomPeer, bytes: Uint8Array): StoredOutcome {
    const decoded = decodeClientFrame(bytes);
    if (!decoded.ok) {
      peer.close('ProtocolError', decoded.reason);
      return 'handled';
    }
    const frame = decoded.frame;
    switch (frame.type) {
      case 'syncStep1':
        this.#answer(peer, frame.stateVector);
        return 'handled';
      case 'syncStep2':
      case 'update':
        return this.#changesNothing(frame.update) ? 'handled' : 'load';
      default:
        return 'load';
    }
  }

  /** The document was loaded (by a writer, a command, the server): its commits reach the peers here. */
  roomLoaded(room: Room): void {
    this.#offCommit?.();
    this.#room = room;
    this.#offCommit = room.onCommit((updates) => {
      this.#state.invalidate();
      relayTo(this.#peers, updates);
    });
  }

  roomUnloaded(): void {
    this.#offCommit?.();
    this.#offCommit = null;
    this.#room = null;
  }

  close(): void {
    this.roomUnloaded();
    this.#state.close();
    this.#peers.clear();
    this.#holds.clear();
  }

  #answer(peer: RoomPeer, stateVector: Uint8Array): void {
    let asked: Map<number, number>;
    try {
      asked = Y.decodeStateVector(stateVector);
    } catch {
      return peer.close('ProtocolError', 'malformed state vector');
    }
    this.#holds.set(peer, stateVector);
    const room = this.#room;
    if (room) {
      // Loaded: answered as a joined peer's step 1 is, once everything applied is committed.
      return room.whenCommitted(() => {
        this.#answered(peer, Y.encodeStateVector(room.doc));
        answerFromRoom(room, peer, stateVector, this.#pacer);
      });
    }
    this.#withState(peer, (state) => {
      let known: Map<number, number>;
      try {
        known = knownEntries(asked, Y.decodeStateVector(state.stateVector));
      } catch (err) {
        return peer.close('ProtocolError', err instanceof StepOneRefused ? err.message : 'malformed state vector');
      }
      this.#answered(peer, state.stateVector);
      if (known.size === 0) return this.#send(peer, state.frames.length > 0 ? state.frames : [encodeFrame({ type: 'syncStep2', update: EMPTY_UPDATE })]);
      this.#reader.diff(this.docName, Y.encodeStateVector(known)).then(
        (frames) => this.#send(peer, frames),
        (err: unknown) => this.#failed(peer, err),
      );
    });
  }

  /** The peer is sent everything up to `stateVector` (the relays here bring what follows while it stays). */
  #answered(peer: RoomPeer, stateVector: Uint8Array): void {
    if (this.#peers.has(peer)) this.#holds.set(peer, stateVector);
  }

  /** Whether an update from a peer would change nothing (judged against the loaded document, or the stored state at hand). */
  #changesNothing(update: Uint8Array): boolean {
    const room = this.#room;
    let stateVector: Map<number, number>;
    let deleted: DeleteRanges;
    if (room) {
      const encoded = Y.encodeStateVector(room.doc);
      stateVector = Y.decodeStateVector(encoded);
      // The document's own state against its own state vector: no items, its whole delete set.
      deleted = deleteRanges(Y.encodeStateAsUpdate(room.doc, encoded));
    } else {
      const state = this.#state.peek();
      if (!state) return false;
      stateVector = Y.decodeStateVector(state.stateVector);
      deleted = state.deleteSet;
    }
    return changesNothing(update, stateVector, deleted);
  }

  #withState(peer: RoomPeer, use: (state: StoredState) => void): void {
    const state = this.#state.get(() => this.#reader.state(this.docName));
    if (!(state instanceof Promise)) return use(state);
    state.then(
      (read) => {
        if (!peer.closed) use(read);
      },
      (err: unknown) => this.#failed(peer, err),
    );
  }

  #send(peer: RoomPeer, frames: readonly Uint8Array[]): void {
    sendFrames(peer, frames, this.#pacer);
  }

  #failed(peer: RoomPeer, err: unknown): void {
    this.#logger.error({ err, room: this.docName, user: peer.user.id }, 'a stored segment could not be read');
    peer.close('InternalError', 'the room could not be read');
  }
}

/** An update that holds nothing (the answer for a document never written). */
const EMPTY_UPDATE = new Uint8Array([0, 0]);
