import type * as Y from 'yjs';
import type { Logger } from '../log.ts';
import type { Room } from '../sync/Room.ts';
import type { RoomRegistry } from '../sync/RoomRegistry.ts';
import type { CommitStage } from '../sync/commit/CommittedBatch.ts';
import { SERVER_ORIGIN } from '../sync/origins.ts';
import { ROOT, parseReactionKey } from '../../shared/roomDoc/layout.ts';
import { roomIndex } from '../../shared/roomDoc/RoomIndex.ts';
import {
  SEGMENT_MAX_BYTES,
  SEGMENT_MAX_MESSAGES,
  CONVERTING_KEY,
  type SegmentEntry,
  SegmentIndex,
  parseDocName,
  segmentDocName,
  segmentsMap,
} from '../../shared/roomDoc/segments.ts';
import { moveMessages } from './moveMessages.ts';
import { type DocAccess, settle, withLoaded } from './loadedDocs.ts';

/**
 * Messages moved out of a head per event-loop turn while it is converted. A move costs more per
 * message the more it moves at once (5,000 messages of 80 characters: 13 to 25 ms a step of
 * 1,000, about 0.8 ms a step of 100), and a room converts while it is in use: the moment it
 * reaches SEGMENT_MAX_MESSAGES. With steps of 1,000, another room's fan-out p99 on the same
 * process was about 100 ms in the seconds a room converted; with 100, 27 ms.
 */
export const CONVERSION_STEP_MESSAGES = 100;

/**
 * The pause after each conversion step, as a multiple of the step's own time (its move, then the
 * group commit that writes it): a conversion takes at most about a fifth of the main thread. Run
 * back to back, a 5,000-message room's 50 steps held the event loop most of the time for a second
 * or more; paced so, another room's fan-out p99 while a busy room converts was 19.1, 21.6 and
 * 24.9 ms against 26.7, 28.4 and 28.4 ms (roomConversion, quick runs alternated).
 */
export const CONVERSION_PAUSE_FACTOR = 4;
/** The longest pause between two steps (a step timed on a busy server counts other rooms' work too). */
const CONVERSION_PAUSE_MAX_MS = 250;

/**
 * Keeps every room's history in bounded segments (shared/roomDoc/segments.ts; docs/protocol.md,
 * "Large rooms"). It is the only writer of the heads' `segments` maps and of moved messages:
 *
 * - **Conversion.** A head not segmented that holds SEGMENT_MAX_MESSAGES messages (grown so, or an
 *   older single-document room loaded) is converted in steps of CONVERSION_STEP_MESSAGES, each
 *   followed by a pause CONVERSION_PAUSE_FACTOR times as long as it took: the oldest messages move
 *   into segment 0 until it is full (then sealed), then 1, …; when
 *   the head is empty the last segment is marked open. Each step writes both documents in one
 *   turn, so one group commit (one SQLite transaction) holds it: after a crash every message is in
 *   exactly one document, and the next load goes on where the last step ended.
 * - **Sealing.** After a commit, an open segment holding SEGMENT_MAX_MESSAGES messages or stored
 *   beyond SEGMENT_MAX_BYTES is sealed (its id range written in the head) and the next one opened.
 * - **Re-homing.** Whatever a client wrote about a message into a document that is not the
 *   message's home (a head once segmented, a segment the message's id is outside of: writes from
 *   devices that did not know of a seal or a conversion yet) is moved to the home after the commit
 *   (moveMessages, with the home's rules), so nothing acknowledged is lost and every message is
 *   shown once, in id order.
 *
 * While any segment of a room is loaded, its head is held loaded too (it names the ranges).
 *
 * Loading: a move or a conversion step is one synchronous step (withLoaded) that reaches every
 * document it writes before writing, so it runs in one turn over documents all loaded; a document
 * missing is loaded first (awaited with an asynchronous store) and the step planned again from
 * what the head says then. So whatever ran during the load (a client's write, a seal, the source
 * unloading) is seen: a late write still goes to the home its id has when it moves. Sealing never
 * loads: it reads and writes the head (held by the segment) and the segment in the commit stage's
 * own turn, after checking that the segment is still the open one, so the sequence never forks.
 */
export class Segmenter {
  readonly #registry: RoomRegistry;
  readonly #logger: Logger;
  /** Per loaded document: message ids that clients wrote about since its last commit. */
  readonly #touched = new WeakMap<Room, Set<string>>();
  /** Heads held by a loaded segment of theirs: segment document name -> release. */
  readonly #headHolds = new Map<string, () => void>();
  /** Rooms whose conversion is running (room ids). */
  readonly #converting = new Set<string>();
  #stopped = false;

  constructor(deps: { registry: RoomRegistry; logger: Logger }) {
    this.#registry = deps.registry;
    this.#logger = deps.logger;
  }

  /** The room's segments as its head names them (loading the head if needed; with an asynchronous store it must be loaded). */
  indexOf(roomId: string): SegmentIndex {
    return SegmentIndex.of(this.#registry.open(roomId).doc);
  }

  /** A document was loaded: watch what clients write to it; a segment holds its head; a full head starts converting. */
  roomLoaded(room: Room): void {
    const ref = parseDocName(room.roomId);
    if (!ref) return;
    const touched = new Set<string>();
    this.#touched.set(room, touched);
    const onTransaction = (tr: Y.Transaction): void => {
      if (tr.origin === SERVER_ORIGIN) return;
      for (const [type, keys] of tr.changed) {
        const root = rootName(room.doc, type);
        if (root === null) continue;
        for (const key of keys) {
          if (key === null) continue;
          const id = root === ROOT.reactions ? parseReactionKey(key)?.messageId : key;
          if (id) touched.add(id);
        }
      }
    };
    room.doc.on('afterTransaction', onTransaction);
    if (ref.segment !== null) {
      const { release } = this.#registry.acquire(ref.roomId, room);
      this.#headHolds.set(room.roomId, release);
    } else this.#maybeConvert(room);
  }

  /** A document unloaded (its Y.Doc, and the listener on it, are gone): a segment lets its head go. */
  roomUnloaded(docName: string): void {
    this.#headHolds.get(docName)?.();
    this.#headHolds.delete(docName);
  }

  stop(): void {
    this.#stopped = true;
  }

  /** After each commit: re-home what landed outside its home, seal a full open segment, convert a full head. */
  readonly stage: CommitStage = ({ room, updates }) => {
    if (updates.length === 0 || room.closed) return;
    const ref = parseDocName(room.roomId);
    const touched = this.#touched.get(room);
    if (!ref || !touched) return;
    const ids = [...touched];
    touched.clear();
    const head = ref.segment === null ? room : this.#registry.get(ref.roomId);
    if (!head) return;
    if (ref.segment === null && !SegmentIndex.of(head.doc).segmented) {
      this.#maybeConvert(room);
      return;
    }
    try {
      this.#rehome(ref.roomId, room, ref.segment, ids);
      if (ref.segment !== null) this.#maybeSeal(head, room, ref.segment);
    } catch (err) {
      this.#logger.error({ err, room: room.roomId }, 'segments: re-homing or sealing failed');
    }
  };

  /**
   * Moves every message in `ids` whose home is not `source` (segment `n`, or the head when null)
   * to its home: at once when the homes are loaded, else once they are (the source held meanwhile).
   */
  #rehome(roomId: string, source: Room, n: number | null, ids: readonly string[]): void {
    if (ids.length === 0) return;
    const { release } = this.#registry.acquire(source.roomId, {});
    settle(
      () => withLoaded(this.#registry, (doc) => {
        // Unloaded while a home loaded (failed, shut down): what it holds is stored; it moves when next written.
        if (source.closed) return;
        const head = n === null ? source : doc(roomId);
        this.#moveHome(roomId, source, this.#homes(roomId, n, SegmentIndex.of(head.doc), ids, doc));
      }),
      release,
      (err: unknown) => {
        release();
        this.#logger.error({ err, room: source.roomId }, 'segments: re-homing failed');
      },
    );
  }

  /** The homes of the ids that are not at home in document `n` (null: the head), each reached through `doc`. */
  #homes(roomId: string, n: number | null, index: SegmentIndex, ids: readonly string[], doc: DocAccess): Array<{ target: Room; ids: string[] }> {
    const byHome = new Map<number, string[]>();
    for (const id of ids) {
      const home = index.homeOf(id);
      if (home === null || home === n) continue;
      const list = byHome.get(home) ?? [];
      list.push(id);
      byHome.set(home, list);
    }
    return [...byHome].map(([home, moving]) => ({ target: doc(segmentDocName(roomId, home)), ids: moving }));
  }

  /** Moves each group into its home now (one turn: one group commit holds both sides); each home stays loaded until that commit. */
  #moveHome(roomId: string, source: Room, moves: ReadonlyArray<{ target: Room; ids: string[] }>): void {
    for (const { target, ids } of moves) {
      const moved = moveMessages(source.doc, target.doc, ids, SERVER_ORIGIN);
      this.#logger.info({ room: roomId, from: source.roomId, to: target.roomId, ids: ids.length, dropped: moved.dropped }, 'segments: re-homed late writes');
      this.#holdUntilCommitted(target);
    }
  }

  #holdUntilCommitted(room: Room): void {
    const { release } = this.#registry.acquire(room.roomId, {});
    room.whenCommitted(release, release);
  }

  /**
   * Seals segment `n` if it is still the open one and full: its own messages (those after the last
   * sealed range: a late write below it is on its way to its home) number SEGMENT_MAX_MESSAGES, or
   * it is stored beyond SEGMENT_MAX_BYTES. Checked and written in one turn: never sealed twice.
   */
  #maybeSeal(head: Room, segment: Room, n: number): void {
    const segments = SegmentIndex.of(head.doc);
    if (head.closed || segment.closed || segments.open?.n !== n) return;
    const index = roomIndex(segment.doc);
    const start = index.upperBound(segments.sealed.at(-1)?.last ?? '');
    const count = index.size - start;
    if (count === 0 || (count < SEGMENT_MAX_MESSAGES && segment.storedBytes < SEGMENT_MAX_BYTES)) return;
    const first = index.idAt(start) ?? null;
    const last = index.idAt(index.size - 1) ?? null;
    head.doc.transact(() => {
      const map = segmentsMap(head.doc);
      map.set(String(n), { sealed: true, first, last, count } satisfies SegmentEntry);
      map.set(String(n + 1), OPEN);
    }, SERVER_ORIGIN);
    this.#logger.info({ room: parseDocName(head.roomId)?.roomId, segment: n, messages: count, bytes: segment.storedBytes }, 'segments: sealed');
  }

  #maybeConvert(head: Room): void {
    if (this.#converting.has(head.roomId) || SegmentIndex.of(head.doc).segmented) return;
    // Started before a restart (the head says so), or a head that is full now.
    const resumed = segmentsMap(head.doc).get(CONVERTING_KEY) === true;
    if (!resumed && roomIndex(head.doc).size < SEGMENT_MAX_MESSAGES) return;
    this.#converting.add(head.roomId);
    this.#logger.info({ room: head.roomId, messages: roomIndex(head.doc).size }, 'segments: converting the room into segments');
    const holder = {};
    const { release } = this.#registry.acquire(head.roomId, holder);
    const end = (): void => this.#endConversion(head, release);
    const failed = (err: unknown): void => {
      this.#logger.error({ err, room: head.roomId }, 'segments: conversion step failed');
      end();
    };
    const step = (): void => {
      if (this.#stopped || head.closed) return end();
      const started = performance.now();
      settle(
        () => withLoaded(this.#registry, (doc) => this.#convertStep(head, doc)),
        (more) => {
          // Shut down or dropped while the segment loaded: the next load goes on from here.
          if (this.#stopped || head.closed) return end();
          if (more) {
            // The step's commit runs in a later turn: the pause starts once it is written.
            head.whenCommitted(() => setTimeout(step, Math.min(CONVERSION_PAUSE_MAX_MS, (performance.now() - started) * CONVERSION_PAUSE_FACTOR)).unref(), end);
          } else {
            this.#logger.info({ room: head.roomId, segments: SegmentIndex.of(head.doc).newestFirst().length }, 'segments: room converted');
            head.whenCommitted(end, end);
          }
        },
        failed,
      );
    };
    setImmediate(step);
  }

  #endConversion(head: Room, release: () => void): void {
    this.#converting.delete(head.roomId);
    release();
  }

  /**
   * Moves up to CONVERSION_STEP_MESSAGES of the head's oldest messages into the segment being
   * filled, sealing it when full and marking it open once the head is empty; false when done (or
   * the head is gone). Planned from the head as it is now, every document it writes reached
   * before the first write (withLoaded may run it again once a missing one is loaded).
   */
  #convertStep(head: Room, doc: DocAccess): boolean {
    if (head.closed) return false;
    const roomId = head.roomId;
    const segments = SegmentIndex.of(head.doc);
    const sealed = segments.sealed;
    const n = sealed.length;
    const lastSealed = sealed.at(-1)?.last ?? '';
    const headIndex = roomIndex(head.doc);
    const segment = doc(segmentDocName(roomId, n));
    const start = headIndex.upperBound(lastSealed);
    // Written about sealed messages while converting (an edit of one already moved): re-homed.
    const strays = this.#homes(roomId, null, segments, headIndex.idsBetween(0, start), doc);
    // Everything this step writes is reached: from here on it runs to the end in this turn.
    this.#moveHome(roomId, head, strays);
    const segmentIndex = roomIndex(segment.doc);
    const from = headIndex.upperBound(lastSealed);
    const room = SEGMENT_MAX_MESSAGES - segmentIndex.size;
    const ids = headIndex.idsBetween(from, Math.min(headIndex.size, from + Math.min(room, CONVERSION_STEP_MESSAGES)));
    if (ids.length > 0) moveMessages(head.doc, segment.doc, ids, SERVER_ORIGIN);
    this.#holdUntilCommitted(segment);
    const full = segmentIndex.size >= SEGMENT_MAX_MESSAGES;
    const headEmpty = headIndex.size === 0;
    head.doc.transact(() => {
      const map = segmentsMap(head.doc);
      if (!headEmpty && map.get(CONVERTING_KEY) !== true) map.set(CONVERTING_KEY, true);
      if (full || headEmpty) {
        if (full) {
          map.set(String(n), { sealed: true, first: segmentIndex.idAt(0) ?? null, last: segmentIndex.idAt(segmentIndex.size - 1) ?? null, count: segmentIndex.size } satisfies SegmentEntry);
          if (headEmpty) map.set(String(n + 1), OPEN);
        } else map.set(String(n), OPEN);
      }
      if (headEmpty) map.delete(CONVERTING_KEY);
    }, SERVER_ORIGIN);
    return !headEmpty;
  }
}

const OPEN: SegmentEntry = { sealed: false, first: null, last: null, count: 0 };

/** Which of the room maps a changed type is (messages, deletions, reactions), or null. */
function rootName(doc: Y.Doc, type: unknown): string | null {
  for (const name of [ROOT.messages, ROOT.deletions, ROOT.reactions]) if (doc.share.get(name) === type) return name;
  return null;
}
