import * as Y from 'yjs';
import { decodeClientFrame, encodeFrame } from '../../shared/protocol/frames.ts';
import type { Room } from './Room.ts';
import { answerFromRoom } from './stepOneAnswers.ts';
import type { RoomPeer } from './RoomPeer.ts';
import type { FramePacer } from '../ws/FramePacer.ts';

/**
 * One peer's side of the sync protocol in a room: decodes each frame it sends and does what the
 * frame asks (answers a step 1 once everything applied is committed, hands updates to the room,
 * awareness to the awareness rules), and remembers whether it waits for an acknowledgement.
 */
export class PeerSession {
  readonly peer: RoomPeer;
  readonly #room: Room;
  readonly #pacer: FramePacer | undefined;
  /** The peer sent updates that the next commit must acknowledge. */
  awaitingAck = false;
  /** The server asked the peer for what it lacks (a sync step 1) and waits for its step 2. */
  #catchingUp = false;

  constructor(room: Room, peer: RoomPeer, pacer?: FramePacer) {
    this.#room = room;
    this.peer = peer;
    this.#pacer = pacer;
  }

  /** What a joining peer gets first: the room's step 1 and every awareness state. */
  greet(): void {
    this.peer.send(encodeFrame({ type: 'syncStep1', stateVector: Y.encodeStateVector(this.#room.doc) }));
    const awareness = this.#room.roomAwareness.snapshotFrame();
    if (awareness) this.peer.send(awareness);
  }

  /** Handles one binary frame. Malformed input closes this peer only. */
  receive(bytes: Uint8Array): void {
    const decoded = decodeClientFrame(bytes);
    if (!decoded.ok) {
      this.peer.close('ProtocolError', decoded.reason);
      return;
    }
    const frame = decoded.frame;
    switch (frame.type) {
      case 'syncStep1': {
        // Never answer with state that is not yet durable: wait for the pending commit.
        const { stateVector } = frame;
        this.#room.whenCommitted(() => this.#answerStep1(stateVector));
        return;
      }
      case 'syncStep2':
      case 'update':
        this.#apply(frame.type, frame.update);
        return;
      case 'awareness':
        this.#room.roomAwareness.receive(this.peer, frame.update);
        return;
      case 'queryAwareness':
        this.peer.send(this.#room.roomAwareness.queryFrame());
        return;
      default: {
        const unknown: never = frame;
        throw new Error(`unhandled frame ${JSON.stringify(unknown)}`);
      }
    }
  }

  /**
   * An update that depends on changes the peer has not sent yet is not an attack: a stock
   * y-websocket client that wrote offline sends its next live update as soon as it reconnects,
   * before its sync step 2 carries the offline writes. Refusing it (4422, final for y-websocket)
   * would lose those writes. So the server drops it and asks the peer for everything it lacks with
   * a sync step 1 of its own; the peer's step 2 carries the dropped update too (a Yjs step 2 holds
   * everything the asker's state vector does not). Updates that arrive missing something while
   * that step 2 is awaited are dropped the same way. Only a step 2 that still lacks dependencies
   * once asked for is refused: that peer cannot provide them.
   */
  #apply(type: 'syncStep2' | 'update', update: Uint8Array): void {
    const tolerateMissing = type === 'update' || !this.#catchingUp;
    const outcome = this.#room.applyFrom(this.peer, update, { tolerateMissing });
    if (outcome === 'applied') {
      this.awaitingAck = true;
      if (type === 'syncStep2') this.#catchingUp = false;
      return;
    }
    if (outcome !== 'missing' || this.#catchingUp) return;
    this.#catchingUp = true;
    this.peer.send(encodeFrame({ type: 'syncStep1', stateVector: Y.encodeStateVector(this.#room.doc) }));
  }

  #answerStep1(stateVector: Uint8Array): void {
    answerFromRoom(this.#room, this.peer, stateVector, this.#pacer);
  }
}
