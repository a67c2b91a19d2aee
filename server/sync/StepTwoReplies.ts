import * as Y from 'yjs';
import { encodeFrame } from '../../shared/protocol/frames.ts';
import { SharedReply } from './SharedReply.ts';
import { roomSplitOptions } from '../../shared/roomDoc/roomSplitOptions.ts';
import { splitUpdate } from '../../shared/yjs/splitUpdate.ts';
import type { RoomOptions } from './roomTypes.ts';
import { knownEntries } from './stepOneAnswers.ts';

/** How long the shared whole-room reply outlives the last joiner that asked for it. */
const WHOLE_ROOM_KEEP_MS = 5_000;
/**
 * A reply larger than this is sent as a step 2 and updates of at most this size: a stock client
 * far behind in a big room must never meet a frame over its WebSocket's limit (`ws` takes 100 MiB),
 * and the frame pacer can share the link between a long reply and everyone else's frames.
 */
export const REPLY_FRAME_BYTES = 1024 * 1024;

/**
 * A room's answers to sync step 1s. A state vector naming something the room has gets its
 * difference, encoded here. One naming nothing the room has (an empty one, say) asks for the
 * whole room, and every such asker shares one reply while the room does not change (SharedReply).
 * For a room stored larger than `wholeRoomFromStorage.aboveBytes` that reply is read and cut by the
 * storage worker rather than encoded here (hundreds of ms for 100,000 messages): it reads what is
 * committed, which is the whole room, since a step 1 is answered only once nothing is pending, and
 * every change committed after that reaches the asker as a relayed update anyway. Right after a
 * room was loaded in slices, the slices themselves are that reply (seed).
 */
export class StepTwoReplies {
  readonly #roomId: string;
  readonly #doc: Y.Doc;
  readonly #storedBytes: () => number;
  readonly #fromStorage: RoomOptions['wholeRoomFromStorage'];
  readonly #wholeRoom = new SharedReply<readonly Uint8Array[]>(WHOLE_ROOM_KEEP_MS);

  constructor(opts: { roomId: string; doc: Y.Doc; storedBytes: () => number; fromStorage: RoomOptions['wholeRoomFromStorage'] }) {
    this.#roomId = opts.roomId;
    this.#doc = opts.doc;
    this.#storedBytes = opts.storedBytes;
    this.#fromStorage = opts.fromStorage;
  }

  /**
   * The frames answering a step 1 with `stateVector`: one step 2 frame, or, for a difference over
   * REPLY_FRAME_BYTES or the whole of a big room, a step 2 followed by updates. Throws on a malformed state vector, and StepOneRefused on
   * one naming far more client ids than the room has.
   */
  for(stateVector: Uint8Array): readonly Uint8Array[] | Promise<readonly Uint8Array[]> {
    // Entries for client ids the room has never seen (or at clock 0) change nothing in the answer:
    // dropped, so that such a step 1 is answered as an empty one, from the shared whole-room reply.
    const known = knownEntries(Y.decodeStateVector(stateVector), this.#doc.store.clients);
    const encode = (): Uint8Array[] => this.#framed(Y.encodeStateAsUpdate(this.#doc, Y.encodeStateVector(known)));
    if (known.size > 0) return encode();
    const fromStorage = this.#fromStorage;
    if (!fromStorage || this.#storedBytes() <= fromStorage.aboveBytes) return this.#wholeRoom.get(encode);
    return this.#wholeRoom.get(() => fromStorage.loader(this.#roomId).then(({ frames }) => (frames.length === 0 ? encode() : frames)));
  }

  /** A difference as frames: one step 2, or a step 2 and updates that apply in order. */
  #framed(update: Uint8Array): Uint8Array[] {
    const parts = splitUpdate(update, REPLY_FRAME_BYTES, roomSplitOptions(this.#doc));
    return parts.map((part, i) => encodeFrame(i === 0 ? { type: 'syncStep2', update: part } : { type: 'update', update: part }));
  }

  /** Takes the frames of a room just loaded in slices as the current whole-room reply. */
  seed(frames: readonly Uint8Array[]): void {
    if (frames.length > 0) this.#wholeRoom.seed(frames);
  }

  /** The room changed: the whole-room reply is made afresh for the next asker. */
  invalidate(): void {
    this.#wholeRoom.invalidate();
  }

  close(): void {
    this.#wholeRoom.close();
  }
}
