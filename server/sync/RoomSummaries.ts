/*
 * Over 350 lines for a reason: one projection (newest message, read times, unread and mention
 * counts) with its write scheduling and its two halves (the documents read synchronously, the
 * database written asynchronously); split, the scheduling would lose sight of what it schedules.
 */
import type { DirectoryApi } from '../storage/DirectoryApi.ts';
import type { RoomMemberships } from '../access/RoomMemberships.ts';
import type { Logger } from '../log.ts';
import type { MessageView } from '../../shared/roomDoc/messageView.ts';
import type { MentionRow } from '../storage/MentionRepo.ts';
import type { Room } from './Room.ts';
import type * as Y from 'yjs';
import { lastMessage, getMessage, messageCount, unreadAfter, unreadCount } from '../../shared/roomDoc/queries.ts';
import { SegmentIndex, parseDocName, roomOfDoc } from '../../shared/roomDoc/segments.ts';
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
 * (DirectoryApi.freshenProjectionsWith: so a client that got its ack still reads a current summary
 * from this node; on another node, within SUMMARY_WRITE_DELAY_MS),
 * when a room unloads, and otherwise SUMMARY_FIRST_WRITE_MS after a change to a room written
 * longer than SUMMARY_WRITE_DELAY_MS ago, else SUMMARY_WRITE_DELAY_MS after its last write (at
 * most once a second per busy room), ROOMS_PER_TURN rooms per turn (200 busy rooms at once held
 * the event loop for tens of ms).
 *
 * Each write has two halves. What the documents say (the newest message, read positions, unread
 * and live mention counts per active member, a segment's mentions) is read synchronously, when the
 * write begins, so a document unloading right after is never read again; what the database adds
 * (the sender's name, mentions in segments nobody has loaded) and the writes follow, asynchronously,
 * in one transaction. Writes run one after another, except a freshening inside a caller's
 * transaction, which writes in it at once (waiting there for another write could wait for the
 * caller's own locks).
 */
export class RoomSummaries {
  readonly #directory: DirectoryApi;
  readonly #memberships: RoomMemberships;
  readonly #logger: Logger;
  /** Per loaded room: the newest message's view as last written, each user's read position and unread count written. */
  readonly #written = new Map<string, Written>();
  readonly #due = new Set<Room>();
  #timer: { readonly at: number; readonly cancel: () => void } | null = null;
  /** When each room's summary was last written (performance.now()). */
  readonly #lastWrite = new WeakMap<Room, number>();
  /** When the last summary transaction ran (performance.now()). */
  #lastTransaction = -Infinity;
  /** Settles when the writes queued so far have finished (each logs its own failure). */
  #tail: Promise<void> = Promise.resolve();
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
   * segmented room's head and segments (without it, every document is a room of its own);
   * `memberships` gives each room's active members (loaded for every room written).
   */
  constructor(deps: { directory: DirectoryApi; memberships: RoomMemberships; logger: Logger; onChanged?: SummaryListener; docs?: SummaryDocs }) {
    this.#directory = deps.directory;
    this.#memberships = deps.memberships;
    this.#logger = deps.logger;
    this.#onChanged = deps.onChanged;
    this.#docs = deps.docs;
    deps.directory.freshenProjectionsWith((dir) => this.writeDue(dir));
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
    void this.#queue(rooms);
    if (next === now) {
      const immediate = setImmediate(this.#writeSome);
      this.#timer = { at: now, cancel: () => clearImmediate(immediate) };
    } else if (next !== Infinity) this.#armFor(next);
  };

  /**
   * Writes every due room's summary, in one transaction: through `dir` when a read freshens
   * (inside its transaction, if it is in one), else after the writes already queued.
   */
  writeDue(dir?: DirectoryApi): Promise<void> {
    if (this.#due.size === 0) return dir ? Promise.resolve() : this.#tail;
    this.#timer?.cancel();
    this.#timer = null;
    const rooms = [...this.#due];
    this.#due.clear();
    if (!dir) return this.#queue(rooms);
    const reads: RoomRead[] = [];
    const unread: Room[] = [];
    for (const room of rooms) {
      const read = this.#read(room);
      if (read) reads.push(read);
      else if (!room.closed) unread.push(room);
    }
    // Memberships not in memory (read again after a failure): written once they are, not dropped.
    if (unread.length > 0) void this.#queue(unread);
    return this.#writeNow(dir, reads);
  }

  /** Writes the room's summary now if it is due (before it unloads: its documents are read at once); a segment's mentions, if not recorded since it changed. */
  writeRoom(room: Room): void {
    const ref = parseDocName(room.roomId);
    const reads: RoomRead[] = [];
    if (ref && ref.segment !== null && this.#segmentsDue.get(ref.roomId)?.delete(room)) {
      reads.push({ roomId: ref.roomId, head: null, segments: [this.#readSegment(room)].filter((r) => r !== null) });
    }
    if (this.#due.delete(room) && !room.closed) {
      const read = this.#read(room);
      if (read) reads.push(read);
    }
    if (reads.length > 0) void this.#enqueue(() => this.#writeNow(this.#directory, reads));
  }

  /** Writes the room's summary (a room loaded: a segment loaded is recorded again, so one written by an older Parley counts too). */
  update(doc: Room): Promise<void> {
    this.#segmentChanged(doc);
    const room = this.#headOf(doc);
    return room ? this.#queue([room]) : Promise.resolve();
  }

  /** Queues a write of these rooms; their documents are read when its turn comes, once their memberships are in memory. */
  #queue(rooms: readonly Room[]): Promise<void> {
    if (rooms.length === 0) return this.#tail;
    return this.#enqueue(async () => {
      for (const room of rooms) if (!room.closed) await this.#memberships.ready(roomOfDoc(room.roomId));
      await this.#writeNow(this.#directory, rooms.flatMap((room) => this.#read(room) ?? []));
    });
  }

  #enqueue(work: () => Promise<void>): Promise<void> {
    const run = this.#tail.then(work).catch((err: unknown) => this.#logger.error({ err }, 'room summaries: a write failed'));
    this.#tail = run;
    return run;
  }

  /** The database half: names and unloaded segments' mentions read, the rows written, in one transaction; then the listener told. */
  async #writeNow(dir: DirectoryApi, reads: readonly RoomRead[]): Promise<void> {
    if (reads.length === 0) return;
    const told = new Map<string, Set<string>>();
    try {
      await dir.transaction(async (tx) => {
        told.clear();
        for (const read of reads) await this.#write(tx, read, told);
      });
    } catch (error) {
      // What was noted as written may not be: those rooms are written whole next time.
      for (const read of reads) this.#written.delete(read.roomId);
      throw error;
    }
    const now = performance.now();
    this.#lastTransaction = now;
    for (const read of reads) if (read.head) this.#lastWrite.set(read.head.room, now);
    for (const [roomId, users] of told) this.#told(roomId, users);
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

  /** The documents' half of a room's summary, read now; null when the room closed or its memberships are not in memory. */
  #read(room: Room): RoomRead | null {
    const members = this.#memberships.activeUserIds(roomOfDoc(room.roomId));
    if (room.closed || members === null) return null;
    // The segment the messages are read from is not loaded: what was written stands (it was
    // written when that segment last changed, loaded); the read positions are still written.
    const { messages, reads, index } = this.#sources(room);
    const positions: HeadRead['positions'][number][] = [];
    for (const [userId, messageId] of readPositions(reads.doc)) {
      // A message id carries its time (createdAt); in a segmented room it may be in any segment.
      positions.push({ userId, messageId, at: index ? uuidv7Time(messageId) : (getMessage(room.doc, messageId)?.createdAt ?? null) });
    }
    const segments = this.#takeSegments(room.roomId);
    if (!messages) return { roomId: room.roomId, head: { room, last: undefined, members, positions, unread: [], mentions: [] }, segments };
    const source = index ? (parseDocName(messages.roomId)?.segment ?? null) : null;
    const unread: HeadRead['unread'][number][] = [];
    const mentions: HeadRead['mentions'][number][] = [];
    for (const userId of members) {
      unread.push({ userId, n: index ? segmentedUnread(reads.doc, messages, index, userId) : unreadCount(room.doc, userId, MAX_UNREAD_COUNT) });
      const position = readPosition(reads.doc, userId);
      mentions.push({ userId, live: mentionsAfter(messages.doc, position, userId, MAX_UNREAD_COUNT), position: position ?? '', source });
    }
    return { roomId: room.roomId, head: { room, last: lastMessage(messages.doc), members, positions, unread, mentions }, segments };
  }

  async #write(tx: DirectoryApi, read: RoomRead, told: Map<string, Set<string>>): Promise<void> {
    for (const segment of read.segments) {
      if (segment.replace) await tx.mentions.replaceSegment(read.roomId, segment.n, segment.rows);
      else await tx.mentions.update(read.roomId, segment.n, segment.added, segment.removed);
    }
    const head = read.head;
    if (!head) return;
    let written = this.#written.get(read.roomId);
    if (!written) this.#written.set(read.roomId, (written = { lastMessage: '', reads: new Map(), unread: new Map(), mentions: new Map() }));
    const users = new Set<string>();
    // Compared as the document's view, so the common commit (nothing about the newest message
    // changed) costs no database read for the sender's name.
    const key = JSON.stringify(head.last);
    if (head.last !== undefined && key !== written.lastMessage) {
      const json = head.last ? toChatMessage(head.last, read.roomId, await namesOf(tx, head.last)) : null;
      await tx.rooms.setLastMessage(read.roomId, json);
      written.lastMessage = key;
      for (const userId of head.members) users.add(userId);
    }
    for (const { userId, messageId, at } of head.positions) {
      if (written.reads.get(userId) === messageId) continue;
      if (at !== null) await tx.members.setLastReadAt(read.roomId, userId, at);
      written.reads.set(userId, messageId);
    }
    // Unread counts, for the room list without the document: they move with messages and reads.
    for (const { userId, n } of head.unread) {
      if (written.unread.get(userId) === n) continue;
      await tx.members.setUnreadCount(read.roomId, userId, n);
      written.unread.set(userId, n);
      users.add(userId);
    }
    // Mention counts: counted live in the document the messages are read from, plus, in a
    // segmented room, those after the read position that the other segments held when last loaded
    // (`segment_mentions`, kept by the segments' half above).
    for (const { userId, live, position, source } of head.mentions) {
      let n = live;
      if (source !== null && n < MAX_UNREAD_COUNT) n += await tx.mentions.countAfter(read.roomId, userId, position, source, MAX_UNREAD_COUNT - n);
      if (written.mentions.get(userId) === n) continue;
      await tx.members.setMentionCount(read.roomId, userId, n);
      written.mentions.set(userId, n);
      users.add(userId);
    }
    if (users.size > 0) {
      const set = told.get(read.roomId) ?? new Set<string>();
      for (const user of users) set.add(user);
      told.set(read.roomId, set);
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

  /** The counted mentions of the room's segments that changed or loaded since last time, read now. */
  #takeSegments(roomId: string): SegmentRead[] {
    const due = this.#segmentsDue.get(roomId);
    if (!due) return [];
    this.#segmentsDue.delete(roomId);
    return [...due].flatMap((segment) => this.#readSegment(segment) ?? []);
  }

  /** The whole set the first time a loaded segment is seen, then what it gained and lost. */
  #readSegment(segment: Room): SegmentRead | null {
    const n = parseDocName(segment.roomId)?.segment;
    if (segment.closed || n === null || n === undefined) return null;
    const rows = countedMentions(segment.doc);
    const keyOf = (r: MentionRow): string => `${r.userId}\0${r.messageId}`;
    const now = new Map(rows.map((r) => [keyOf(r), r]));
    const before = this.#recorded.get(segment);
    this.#recorded.set(segment, now);
    if (!before) return { n, replace: true, rows, added: [], removed: [] };
    const added = rows.filter((r) => !before.has(keyOf(r)));
    const removed = [...before].flatMap(([key, r]) => (now.has(key) ? [] : [r]));
    return { n, replace: false, rows: [], added, removed };
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

  /** Writes what is due, stops the timer, and resolves once every write has finished (shutdown). */
  async close(): Promise<void> {
    const last = this.writeDue();
    this.#timer?.cancel();
    this.#timer = null;
    await last;
    await this.#tail;
  }
}

/** What was last written of a room's summary. */
interface Written {
  lastMessage: string;
  reads: Map<string, string>;
  unread: Map<string, number>;
  mentions: Map<string, number>;
}

/** The documents' half of a segment's recorded mentions: the whole set, or what it gained and lost. */
interface SegmentRead {
  readonly n: number;
  readonly replace: boolean;
  readonly rows: readonly MentionRow[];
  readonly added: readonly MentionRow[];
  readonly removed: readonly MentionRow[];
}

/** The documents' half of a room's summary (RoomSummaries.#read). */
interface RoomRead {
  readonly roomId: string;
  /** Null when only segments' mentions are written (a segment unloading). */
  readonly head: HeadRead | null;
  readonly segments: readonly SegmentRead[];
}

/** The documents' half of the summary proper: what the REST API reports about the room. */
interface HeadRead {
  readonly room: Room;
  /** The newest message; undefined when the document holding it is not loaded (what was written stands). */
  readonly last: MessageView | null | undefined;
  readonly members: readonly string[];
  readonly positions: readonly { userId: string; messageId: string; at: number | null }[];
  readonly unread: readonly { userId: string; n: number }[];
  readonly mentions: readonly { userId: string; live: number; position: string; source: number | null }[];
}

/** The names a message's JSON shows (its sender's, a quoted sender's), read first, then looked up synchronously. */
async function namesOf(dir: DirectoryApi, view: MessageView): Promise<(userId: string) => string | null> {
  const ids = [view.senderId, view.quoted?.senderId].filter((id): id is string => typeof id === 'string');
  const names = new Map<string, string | null>();
  for (const id of new Set(ids)) names.set(id, (await dir.users.get(id))?.name ?? null);
  return (id) => names.get(id) ?? null;
}
