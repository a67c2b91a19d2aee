import type { Directory } from '../storage/Directory.ts';
import type { Room } from './Room.ts';
import { lastMessage, getMessage } from '../../shared/roomDoc/queries.ts';
import { readPositions } from '../../shared/roomDoc/readOps.ts';
import { toChatMessage } from '../../shared/roomDoc/toChatMessage.ts';

/**
 * Keeps what the REST API reports about a room in step with its document after every commit:
 * `rooms.last_message` (the newest message as ChatMessage JSON) and each member's
 * `last_read_at` (the time of the newest message they have read): a projection for REST, which
 * never writes to the document.
 */
export class RoomSummaries {
  readonly #directory: Directory;
  /** Per loaded room: the newest message's view as last written, and each user's read position written. */
  readonly #written = new Map<string, { lastMessage: string; reads: Map<string, string> }>();
  readonly #due = new Set<Room>();

  constructor(directory: Directory) {
    this.#directory = directory;
  }

  /**
   * Brings the room's summary up to date once the current task ends (a microtask): every room of
   * one group commit is then written in one SQLite transaction, rather than one per room, and
   * still before any other I/O is handled, so a client that got its ack reads a current summary.
   */
  schedule(room: Room): void {
    if (this.#due.size === 0) queueMicrotask(() => this.#flushDue());
    this.#due.add(room);
  }

  #flushDue(): void {
    const rooms = [...this.#due];
    this.#due.clear();
    this.#directory.transaction(() => {
      for (const room of rooms) if (!room.closed) this.update(room);
    });
  }

  update(room: Room): void {
    let written = this.#written.get(room.roomId);
    if (!written) this.#written.set(room.roomId, (written = { lastMessage: '', reads: new Map() }));

    // Compared as the document's view, so the common commit (nothing about the newest message
    // changed) costs no database read for the sender's name.
    const last = lastMessage(room.doc);
    const key = JSON.stringify(last);
    if (key !== written.lastMessage) {
      const json = last ? toChatMessage(last, room.roomId, (id) => this.#directory.users.get(id)?.name ?? null) : null;
      this.#directory.rooms.setLastMessage(room.roomId, json);
      written.lastMessage = key;
    }

    for (const [userId, messageId] of readPositions(room.doc)) {
      if (written.reads.get(userId) === messageId) continue;
      const message = getMessage(room.doc, messageId);
      if (message) this.#directory.members.setLastReadAt(room.roomId, userId, message.createdAt);
      written.reads.set(userId, messageId);
    }
  }

  forget(roomId: string): void {
    this.#written.delete(roomId);
  }
}
