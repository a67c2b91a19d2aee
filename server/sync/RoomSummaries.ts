import type { Directory } from '../storage/Directory.ts';
import type { MentionRow } from '../storage/MentionRepo.ts';
import type { Room } from './Room.ts';
import type * as Y from 'yjs';
import { lastMessage, getMessage, messageCount, unreadAfter, unreadCount } from '../../shared/roomDoc/queries.ts';
import { SegmentIndex, parseDocName } from '../../shared/roomDoc/segments.ts';
import { uuidv7Time } from '../../shared/ids.ts';
import { MAX_UNREAD_COUNT } from '../../shared/models/chatRoom.ts';
import { readPosition, readPositions } from '../../shared/roomDoc/readOps.ts';
import { toChatMessage } from '../../shared/roomDoc/toChatMessage.ts';
import { countedMentions, mentionsAfter } from '../../shared/roomDoc/mentionCounts.ts';

/** How RoomSummaries reaches a segmented room's documents (the registry: never loading one). */
export interface SummaryDocs {
  /** The room's head if loaded (a loaded segment holds its head loaded). */
  head(roomId: string): Room | null;
  /**
   * Segment n of the room if loaded. A summary never loads one: that would be a load of up to
   * 4 MiB at once on the event loop, inside the summary's transaction (measured: 374 ms held,
   * whenever any segment of a room loaded after its newest sealed one had unloaded).
   */
  segment(roomId: string, n: number): Room | null;
}

/**
 * Unread in a segmented room: exact within the document read (`messages`: the open segment, or
 * the newest sealed one), and, for a read position before it, every message of the sealed
 * segments after the one holding the position, by the counts the head keeps (the user's own
 * included: an estimate, capped like the rest at MAX_UNREAD_COUNT).
 */
function segmentedUnread(head: Y.Doc, messages: Room, index: SegmentIndex, userId: string): number {
  const position = readPosition(head, userId);
  let count = unreadAfter(messages.doc, position, userId, MAX_UNREAD_COUNT);
  const n = parseDocName(messages.roomId)?.segment ?? 0;
  const home = position === null ? -1 : index.homeOf(position);
  if (home !== null && home < n) count += index.sealed.filter((s) => s.n > home && s.n < n).reduce((sum, s) => sum + s.count, 0);
  return Math.min(count, MAX_UNREAD_COUNT);
}

/** Told which users' summaries of which rooms were written (newest message, unread count). */
export type SummaryListener = (changed: ReadonlyMap<string, ReadonlySet<string>>) => void;

/** A room's summary is written at most once per this long while it keeps changing, when nobody reads it. */
export const SUMMARY_WRITE_DELAY_MS = 1_000;
/**
 * A room quiet for SUMMARY_WRITE_DELAY_MS is written this soon after its change: a message after
 * a pause reaches the other members' room lists (the user feed) within tens of ms, while a busy
 * room is still written once a second.
 */
export const SUMMARY_FIRST_WRITE_MS = 25;
/**
 * Summary transactions are at least this far apart, and each takes every room that may be written
 * within this long: with synchronous=FULL each transaction is an fsync, and 200 busy rooms written
 * each on its own second would otherwise cost 200 of them a second (measured: the many-rooms
 * benchmark's p99 at 1,000 msg/s went from 16 to 70 ms).
 */
const SUMMARY_MIN_GAP_MS = 100;
/** Rooms written per event-loop turn when the delay runs out (a few ms of work at most). */
const ROOMS_PER_TURN = 16;

/**
 * Keeps what the REST API reports about a room in step with its document: `rooms.last_message`
 * (the newest message as ChatMessage JSON) and each member's `last_read_at` (the time of the
 * newest message they have read): a projection for REST, which never writes to the document.
 *
 * Written lazily, not per commit: a commit only marks its room due (writing the newest message
 * as JSON into SQLite on every message cost about 13 % of the server's CPU with 200 busy rooms).
 * Due rooms are written together in one transaction before any read that returns those columns
 * (Directory.freshenProjectionsWith: so a client that got its ack still reads a current summary),
 * when a room unloads, and otherwise SUMMARY_FIRST_WRITE_MS after a change to a room written
 * longer than SUMMARY_WRITE_DELAY_MS ago, else SUMMARY_WRITE_DELAY_MS after its last write (at
 * most once a second per busy room), ROOMS_PER_TURN rooms per turn (200 busy rooms at once held
 * the event loop for tens of ms).
 */
export class RoomSummaries {
  readonly #directory: Directory;
  /** Per loaded room: the newest message's view as last written, each user's read position and unread count written. */
  readonly #written = new Map<string, { lastMessage: string; reads: Map<string, string>; unread: Map<string, number>; mentions: Map<string, number> }>();
  readonly #due = new Set<Room>();
  #timer: { readonly at: number; readonly cancel: () => void } | null = null;
  /** When each room's summary was last written (performance.now()). */
  readonly #lastWrite = new WeakMap<Room, number>();
  /** When the last summary transaction ran (performance.now()). */
  #lastTransaction = -Infinity;
  #writing = false;
  /** What changed since the listener last heard (told once per turn): per room, the users whose summary moved. */
  readonly #changed = new Map<string, Set<string>>();
  readonly #onChanged: SummaryListener | undefined;

  readonly #docs: SummaryDocs | undefined;
  /** Per segmented room (its head's id): segments changed or loaded since their mentions were recorded. */
  readonly #segmentsDue = new Map<string, Set<Room>>();
  /** Per loaded segment: its counted mentions as recorded, by `user\0message`. */
  readonly #recorded = new WeakMap<Room, ReadonlyMap<string, MentionRow>>();

  /**
   * `onChanged` hears whose summaries were written (the user feed pushes them); `docs` finds a
   * segmented room's head and segments (without it, every document is a room of its own).
   */
  constructor(directory: Directory, onChanged?: SummaryListener, docs?: SummaryDocs) {
    this.#directory = directory;
    this.#onChanged = onChanged;
    this.#docs = docs;
    directory.freshenProjectionsWith(() => this.writeDue());
  }

  /** Marks the room's summary as behind its document (a segment's: its head's); it is written before anyone reads it. */
  schedule(doc: Room): void {
    const room = this.#headOf(doc);
    if (!room) return;
    this.#segmentChanged(doc);
    this.#due.add(room);
    this.#armFor(this.#writableAt(room));
  }

  /** When a due room may be written: soon after a quiet spell, else a second after its last write. */
  #writableAt(room: Room): number {
    const now = performance.now();
    return Math.max(now + SUMMARY_FIRST_WRITE_MS, (this.#lastWrite.get(room) ?? -Infinity) + SUMMARY_WRITE_DELAY_MS);
  }

  /** The timer fires at `at` (not sooner than SUMMARY_MIN_GAP_MS after the last write), unless it is armed for earlier already. */
  #armFor(wanted: number): void {
    const at = Math.max(wanted, this.#lastTransaction + SUMMARY_MIN_GAP_MS);
    if (this.#timer && this.#timer.at <= at) return;
    this.#timer?.cancel();
    const timeout = setTimeout(this.#writeSome, Math.max(0, at - performance.now()));
    timeout.unref();
    this.#timer = { at, cancel: () => clearTimeout(timeout) };
  }

  /** Writes up to ROOMS_PER_TURN due rooms that may be written now, and comes back for the rest. */
  readonly #writeSome = (): void => {
    this.#timer = null;
    const now = performance.now();
    const rooms: Room[] = [];
    let next = Infinity;
    for (const room of this.#due) {
      const at = (this.#lastWrite.get(room) ?? -Infinity) + SUMMARY_WRITE_DELAY_MS;
      // Rooms that may be written within the gap come along: one transaction instead of several.
      if (at > now + SUMMARY_MIN_GAP_MS) next = Math.min(next, at);
      else if (rooms.length < ROOMS_PER_TURN) rooms.push(room);
      else next = now;
    }
    for (const room of rooms) this.#due.delete(room);
    this.#write(rooms);
    if (next === now) {
      const immediate = setImmediate(this.#writeSome);
      this.#timer = { at: now, cancel: () => clearImmediate(immediate) };
    } else if (next !== Infinity) this.#armFor(next);
  };

  /** Writes every due room's summary, in one transaction. */
  writeDue(): void {
    if (this.#due.size === 0 || this.#writing) return;
    this.#timer?.cancel();
    this.#timer = null;
    const rooms = [...this.#due];
    this.#due.clear();
    this.#write(rooms);
  }

  #write(rooms: readonly Room[]): void {
    if (rooms.length === 0) return;
    this.#writing = true;
    try {
      this.#directory.transaction(() => {
        for (const room of rooms) if (!room.closed) this.#update(room);
      });
      const now = performance.now();
      this.#lastTransaction = now;
      for (const room of rooms) this.#lastWrite.set(room, now);
    } finally {
      this.#writing = false;
    }
  }

  /** Writes the room's summary now if it is due (before it unloads); a segment's mentions, if not recorded since it changed. */
  writeRoom(room: Room): void {
    const ref = parseDocName(room.roomId);
    if (ref && ref.segment !== null && this.#segmentsDue.get(ref.roomId)?.delete(room)) this.#directory.transaction(() => this.#recordSegment(ref.roomId, room));
    if (!this.#due.delete(room) || room.closed) return;
    this.update(room);
  }

  /** Writes the room's summary now, in one transaction (one fsync for every member's row). */
  update(doc: Room): void {
    // A segment loaded is recorded again, so one written by an older Parley counts too.
    this.#segmentChanged(doc);
    const room = this.#headOf(doc);
    if (room) this.#directory.transaction(() => this.#update(room));
  }

  /** The room document a document's summary belongs to: itself, or a segment's head (null when that is not loaded). */
  #headOf(doc: Room): Room | null {
    const ref = parseDocName(doc.roomId);
    return ref?.segment === null || !ref || !this.#docs ? doc : this.#docs.head(ref.roomId);
  }

  /**
   * Where the summary reads from. A room not segmented: its document. A segmented one: the head's
   * read positions, the open segment's messages (the newest sealed one's right after a seal), and
   * the head's counts of sealed segments for unread counts that reach past the open segment.
   */
  #sources(room: Room): { messages: Room | null; reads: Room; index: SegmentIndex | null } {
    const index = SegmentIndex.of(room.doc);
    const open = index.open;
    if (!open || !this.#docs) return { messages: room, reads: room, index: null };
    const roomId = room.roomId;
    let messages = this.#docs.segment(roomId, open.n);
    const newestSealed = index.sealed.at(-1);
    if (messages && messageCount(messages.doc) === 0 && newestSealed) messages = this.#docs.segment(roomId, newestSealed.n);
    return { messages, reads: room, index };
  }

  #update(room: Room): void {
    let written = this.#written.get(room.roomId);
    if (!written) this.#written.set(room.roomId, (written = { lastMessage: '', reads: new Map(), unread: new Map(), mentions: new Map() }));

    // Compared as the document's view, so the common commit (nothing about the newest message
    // changed) costs no database read for the sender's name.
    let changed: readonly string[] = [];
    // The segment the messages are read from is not loaded: what was written stands (it was
    // written when that segment last changed, loaded); the read positions are still written.
    const { messages, reads, index } = this.#sources(room);
    const last = messages ? lastMessage(messages.doc) : null;
    const key = JSON.stringify(last);
    if (messages && key !== written.lastMessage) {
      const json = last ? toChatMessage(last, room.roomId, (id) => this.#directory.users.get(id)?.name ?? null) : null;
      this.#directory.rooms.setLastMessage(room.roomId, json);
      written.lastMessage = key;
      changed = this.#directory.members.listActiveUserIds(room.roomId);
    }

    for (const [userId, messageId] of readPositions(reads.doc)) {
      if (written.reads.get(userId) === messageId) continue;
      // A message id carries its time (createdAt); in a segmented room it may be in any segment.
      const at = index ? uuidv7Time(messageId) : (getMessage(room.doc, messageId)?.createdAt ?? null);
      if (at !== null) this.#directory.members.setLastReadAt(room.roomId, userId, at);
      written.reads.set(userId, messageId);
    }

    const users = new Set(changed);
    this.#recordSegmentMentions(room.roomId);
    if (messages) this.#writeUnread(room, { messages, reads, index }, written.unread, users);
    if (messages) this.#writeMentions(room, { messages, reads, segmented: index !== null }, written.mentions, users);
    if (users.size > 0) this.#told(room.roomId, users);
  }

  /** Unread counts, for the room list without the document: they move with messages and reads. */
  #writeUnread(room: Room, from: { messages: Room; reads: Room; index: SegmentIndex | null }, written: Map<string, number>, users: Set<string>): void {
    for (const userId of this.#directory.members.listActiveUserIds(room.roomId)) {
      const unread = from.index ? segmentedUnread(from.reads.doc, from.messages, from.index, userId) : unreadCount(room.doc, userId, MAX_UNREAD_COUNT);
      if (written.get(userId) === unread) continue;
      this.#directory.members.setUnreadCount(room.roomId, userId, unread);
      written.set(userId, unread);
      users.add(userId);
    }
  }

  /**
   * Mention counts, beside the unread counts: in the document the messages are read from (a
   * segmented room's open segment, or newest sealed one) counted live, plus, in a segmented room,
   * the mentions after the read position that the other segments held when last loaded
   * (`segment_mentions`, kept by #recordSegmentMentions).
   */
  #writeMentions(room: Room, from: { messages: Room; reads: Room; segmented: boolean }, written: Map<string, number>, users: Set<string>): void {
    const source = from.segmented ? (parseDocName(from.messages.roomId)?.segment ?? null) : null;
    for (const userId of this.#directory.members.listActiveUserIds(room.roomId)) {
      const position = readPosition(from.reads.doc, userId);
      let mentions = mentionsAfter(from.messages.doc, position, userId, MAX_UNREAD_COUNT);
      if (source !== null && mentions < MAX_UNREAD_COUNT) mentions += this.#directory.mentions.countAfter(room.roomId, userId, position ?? '', source, MAX_UNREAD_COUNT - mentions);
      if (written.get(userId) === mentions) continue;
      this.#directory.members.setMentionCount(room.roomId, userId, mentions);
      written.set(userId, mentions);
      users.add(userId);
    }
  }

  /** A segment changed or loaded: its mentions are recorded with its head's next summary. */
  #segmentChanged(doc: Room): void {
    const ref = parseDocName(doc.roomId);
    if (!ref || ref.segment === null) return;
    const due = this.#segmentsDue.get(ref.roomId);
    if (due) due.add(doc);
    else this.#segmentsDue.set(ref.roomId, new Set([doc]));
  }

  /** Records the counted mentions of the room's segments that changed or loaded since last time. */
  #recordSegmentMentions(roomId: string): void {
    const due = this.#segmentsDue.get(roomId);
    if (!due) return;
    this.#segmentsDue.delete(roomId);
    for (const segment of due) this.#recordSegment(roomId, segment);
  }

  /** The whole set the first time a loaded segment is seen, then what it gained and lost. */
  #recordSegment(roomId: string, segment: Room): void {
    const n = parseDocName(segment.roomId)?.segment;
    if (segment.closed || n === null || n === undefined) return;
    const rows = countedMentions(segment.doc);
    const keyOf = (r: MentionRow): string => `${r.userId}\0${r.messageId}`;
    const now = new Map(rows.map((r) => [keyOf(r), r]));
    const before = this.#recorded.get(segment);
    this.#recorded.set(segment, now);
    if (!before) return this.#directory.mentions.replaceSegment(roomId, n, rows);
    const added = rows.filter((r) => !before.has(keyOf(r)));
    const removed = [...before].flatMap(([key, r]) => (now.has(key) ? [] : [r]));
    this.#directory.mentions.update(roomId, n, added, removed);
  }

  /** After the transaction that wrote it (a microtask): the listener reads what is committed. */
  #told(roomId: string, users: ReadonlySet<string>): void {
    const listener = this.#onChanged;
    if (!listener) return;
    if (this.#changed.size === 0) {
      queueMicrotask(() => {
        const changed = new Map(this.#changed);
        this.#changed.clear();
        listener(changed);
      });
    }
    const set = this.#changed.get(roomId) ?? new Set<string>();
    for (const user of users) set.add(user);
    this.#changed.set(roomId, set);
  }

  forget(roomId: string): void {
    this.#written.delete(roomId);
    for (const room of this.#due) if (room.roomId === roomId) this.#due.delete(room);
  }

  /** Writes what is due and stops the timer (shutdown). */
  close(): void {
    this.writeDue();
    this.#timer?.cancel();
    this.#timer = null;
  }
}
