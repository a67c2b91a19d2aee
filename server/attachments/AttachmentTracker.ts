import * as Y from 'yjs';
import type { Logger } from '../log.ts';
import type { Room } from '../sync/Room.ts';
import type { CommitStage } from '../sync/commit/CommittedBatch.ts';
import { isTombstone, parseMessageEntry, roomMaps } from '../../shared/roomDoc/layout.ts';
import { parseDocName } from '../../shared/roomDoc/segments.ts';
import type { AttachmentRepo } from '../storage/AttachmentRepo.ts';

/** A committed change waits this long before its rows are written, so a burst is one transaction. */
export const TRACK_DELAY_MS = 100;
/** Messages handled per background turn (each is one or two indexed statements). */
const MESSAGES_PER_TURN = 500;

interface Tracked {
  /** Message ids whose attachments may have changed since last written. */
  readonly pending: Set<string>;
  readonly unobserve: () => void;
}

/** Whether a raw message value names attachments (cheap: no parsing, for the observer). */
const holdsAttachments = (raw: unknown): boolean => typeof raw === 'object' && raw !== null && 'attachments' in raw;

/**
 * Keeps `attachment_refs` (which message holds which upload) in step with the committed room
 * documents, off the sync path, the way the SearchIndexer keeps the search index
 * (docs/attachments.md, "Reference tracking"): each loaded document's `messages` and `deletions`
 * are observed only to note ids of messages that hold, or held, attachments (a Set add); the
 * commit stage marks the document due; a timer writes the rows, MESSAGES_PER_TURN at a time in
 * one transaction. A message holding attachments gets a row per attachment; deleted (a tombstone
 * or a deletion record) its rows go, and an upload left with none is released for garbage
 * collection. A message moved to another loaded document of the room keeps its rows (written
 * from the new one).
 *
 * A document loaded in a state other than the one recorded when the rows last held all of it (a
 * crash before its rows were written, a database from before attachments) is scanned whole.
 */
export class AttachmentTracker {
  readonly #repo: AttachmentRepo;
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #tracked = new Map<Room, Tracked>();
  readonly #byRoom = new Map<string, Set<Room>>();
  readonly #due = new Set<Room>();
  #timer: ReturnType<typeof setTimeout> | null = null;
  #closed = false;

  constructor(deps: { repo: AttachmentRepo; logger: Logger; now?: () => number }) {
    this.#repo = deps.repo;
    this.#logger = deps.logger;
    this.#now = deps.now ?? Date.now;
  }

  /** The commit stage: a document with committed changes to attachment-holding messages is due (no SQL here). */
  readonly stage: CommitStage = ({ room, updates }) => {
    const tracked = this.#tracked.get(room);
    if (updates.length > 0 && tracked && tracked.pending.size > 0) this.#markDue(room);
  };

  roomLoaded(room: Room): void {
    if (this.#closed || this.#tracked.has(room)) return;
    const pending = new Set<string>();
    const { messages, deletions } = roomMaps(room.doc);
    const onMessages = (event: Y.YMapEvent<unknown>): void => {
      for (const [key, change] of event.changes.keys) if (holdsAttachments(change.oldValue) || holdsAttachments(messages.get(key))) pending.add(key);
    };
    const onDeletions = (event: Y.YMapEvent<unknown>): void => {
      for (const key of event.changes.keys.keys()) if (holdsAttachments(messages.get(key))) pending.add(key);
    };
    messages.observe(onMessages);
    deletions.observe(onDeletions);
    this.#tracked.set(room, {
      pending,
      unobserve: () => {
        messages.unobserve(onMessages);
        deletions.unobserve(onDeletions);
      },
    });
    const roomId = roomIdOf(room);
    const siblings = this.#byRoom.get(roomId);
    if (siblings) siblings.add(room);
    else this.#byRoom.set(roomId, new Set([room]));

    const recorded = this.#repo.trackedState(room.roomId);
    if (recorded && Buffer.from(recorded).equals(Y.encodeStateVector(room.doc))) return;
    messages.forEach((value, key) => {
      if (holdsAttachments(value)) pending.add(key);
    });
    for (const id of this.#repo.messagesOf(room.roomId)) pending.add(id);
    if (pending.size > 0) this.#markDue(room);
    else this.#repo.recordTracked(room.roomId, Y.encodeStateVector(room.doc));
  }

  /** Before a document unloads: what it changed is written now. */
  roomUnloading(room: Room): void {
    const tracked = this.#tracked.get(room);
    if (!tracked) return;
    try {
      this.#repo.transaction(() => this.#write(room, tracked, Infinity));
    } catch (err) {
      this.#logger.error({ err, docName: room.roomId }, 'attachments: tracking a document as it unloads failed');
    }
    this.#untrack(room, tracked);
  }

  /** After a document is dropped (with or without roomUnloading): stops watching it; its next load rescans what was missed. */
  roomUnloaded(docName: string): void {
    const roomId = parseDocName(docName)?.roomId ?? docName;
    for (const room of [...(this.#byRoom.get(roomId) ?? [])]) {
      const tracked = this.#tracked.get(room);
      if (room.roomId === docName && room.closed && tracked) this.#untrack(room, tracked);
    }
  }

  /** Writes everything waiting, now (garbage collection calls it first; tests). */
  flush(): void {
    if (this.#closed) return;
    this.#repo.transaction(() => {
      for (const room of this.#due) {
        const tracked = this.#tracked.get(room);
        if (tracked && !room.closed) this.#write(room, tracked, Infinity);
      }
    });
    this.#due.clear();
  }

  close(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    for (const [room, tracked] of this.#tracked) this.#untrack(room, tracked);
    this.#due.clear();
  }

  #markDue(room: Room): void {
    this.#due.add(room);
    if (this.#timer || this.#closed) return;
    this.#timer = setTimeout(this.#turn, TRACK_DELAY_MS);
    this.#timer.unref();
  }

  readonly #turn = (): void => {
    this.#timer = null;
    let budget = MESSAGES_PER_TURN;
    try {
      this.#repo.transaction(() => {
        for (const room of this.#due) {
          if (budget <= 0) break;
          const tracked = this.#tracked.get(room);
          if (!tracked || room.closed) {
            this.#due.delete(room);
            continue;
          }
          budget -= this.#write(room, tracked, budget);
          if (tracked.pending.size === 0) this.#due.delete(room);
        }
      });
    } catch (err) {
      // What was taken from `pending` is lost for now: each due document is scanned whole at its next load.
      for (const room of this.#due) this.#forgetQuietly(room);
      this.#logger.error({ err }, 'attachments: a tracking turn failed');
    }
    const next = this.#due.values().next();
    if (!next.done) this.#markDue(next.value);
  };

  /** Writes up to `max` pending messages' rows; records the document's state once none are left. */
  #write(room: Room, tracked: Tracked, max: number): number {
    const roomId = roomIdOf(room);
    const now = this.#now();
    let done = 0;
    for (const id of tracked.pending) {
      if (done >= max) break;
      tracked.pending.delete(id);
      done++;
      if (!roomMaps(room.doc).messages.has(id)) {
        this.#repo.dropMessageRefs(room.roomId, id, now, false);
        // Moved to another loaded document of the room: its rows are written from there.
        const home = this.#homeOf(roomId, room, id);
        if (home) this.#writeMessage(home, roomId, id, now);
        continue;
      }
      this.#writeMessage(room, roomId, id, now);
    }
    if (tracked.pending.size === 0) this.#repo.recordTracked(room.roomId, Y.encodeStateVector(room.doc));
    return done;
  }

  /** The message as document `room` holds it: its rows, or none once deleted. */
  #writeMessage(room: Room, roomId: string, id: string, now: number): void {
    const { messages, deletions } = roomMaps(room.doc);
    const value = parseMessageEntry(id, messages.get(id));
    const held = value !== null && !isTombstone(value) && !deletions.has(id) ? (value.attachments ?? []) : [];
    if (held.length > 0) this.#repo.setMessageRefs(roomId, room.roomId, id, held.map((a) => a.id), now);
    // Deleted (or never valid): a deletion wins wherever its rows were written.
    else this.#repo.dropMessageRefs(room.roomId, id, now, true);
  }

  #homeOf(roomId: string, except: Room, id: string): Room | null {
    for (const doc of this.#byRoom.get(roomId) ?? []) if (doc !== except && !doc.closed && roomMaps(doc.doc).messages.has(id)) return doc;
    return null;
  }

  #forgetQuietly(room: Room): void {
    try {
      this.#repo.forgetTracked(room.roomId);
    } catch {
      // The database is failing already; the turn's error is logged.
    }
  }

  #untrack(room: Room, tracked: Tracked): void {
    tracked.unobserve();
    this.#tracked.delete(room);
    this.#due.delete(room);
    const roomId = roomIdOf(room);
    const siblings = this.#byRoom.get(roomId);
    siblings?.delete(room);
    if (siblings?.size === 0) this.#byRoom.delete(roomId);
  }
}

const roomIdOf = (room: Room): string => parseDocName(room.roomId)?.roomId ?? room.roomId;
