import type * as Y from 'yjs';
import { roomMaps } from './layout.ts';
import { readPosition } from './readOps.ts';
import { roomIndex } from './RoomIndex.ts';

/*
 * Mention counts (docs/protocol.md, "Conversations": `mention_count` in a room summary): the
 * messages after a member's read position that mention them (`mentionedUsers`), sent by someone
 * else and not deleted. Counted like unread messages, but a scan of every unread message per
 * member would cost a room summary O(members × unread); instead each document keeps, per
 * mentioned user, the ids of the messages naming them, so a count costs O(that user's mentions).
 */

class MentionIndex {
  /** User id -> ids of the messages whose value mentions them. */
  readonly #byUser = new Map<string, Set<string>>();
  /** Message id -> the users its value mentions (to undo when an edit or a tombstone drops them). */
  readonly #byMessage = new Map<string, readonly string[]>();
  /** Keys changed since the last read: re-read from the room index then, once every observer of the transaction has run. */
  readonly #pending = new Set<string>();
  readonly #doc: Y.Doc;

  constructor(doc: Y.Doc) {
    this.#doc = doc;
    const index = roomIndex(doc);
    for (let i = 0; i < index.size; i++) {
      const id = index.idAt(i);
      if (id !== undefined) this.#pending.add(id);
    }
    const messages = roomMaps(doc).messages;
    const observer = (event: Y.YMapEvent<unknown>): void => {
      for (const key of event.changes.keys.keys()) this.#pending.add(key);
    };
    messages.observe(observer);
    doc.once('destroy', () => messages.unobserve(observer));
  }

  /** Ids of messages mentioning the user (deleted ones and the user's own included). */
  mentioning(userId: string): ReadonlySet<string> {
    this.#settle();
    return this.#byUser.get(userId) ?? EMPTY;
  }

  /** The users some message here mentions (or did: their set may be empty now). */
  users(): Iterable<string> {
    this.#settle();
    return this.#byUser.keys();
  }

  #settle(): void {
    if (this.#pending.size === 0) return;
    const index = roomIndex(this.#doc);
    for (const id of this.#pending) {
      for (const userId of this.#byMessage.get(id) ?? []) this.#byUser.get(userId)?.delete(id);
      const users = index.message(id)?.mentionedUsers ?? [];
      if (users.length === 0) this.#byMessage.delete(id);
      else this.#byMessage.set(id, users);
      for (const userId of users) {
        const ids = this.#byUser.get(userId);
        if (ids) ids.add(id);
        else this.#byUser.set(userId, new Set([id]));
      }
    }
    this.#pending.clear();
  }
}

const EMPTY: ReadonlySet<string> = new Set();
const indexes = new WeakMap<Y.Doc, MentionIndex>();

function mentionIndex(doc: Y.Doc): MentionIndex {
  let index = indexes.get(doc);
  if (!index) indexes.set(doc, (index = new MentionIndex(doc)));
  return index;
}

/**
 * Messages in `doc` after `position` (a message id, possibly of another document; null: all)
 * that mention `userId`, were sent by someone else and are not deleted, up to `cap`.
 */
export function mentionsAfter(doc: Y.Doc, position: string | null, userId: string, cap = Infinity): number {
  const index = roomIndex(doc);
  let count = 0;
  for (const id of mentionIndex(doc).mentioning(userId)) {
    if (count >= cap) break;
    if (position !== null && id <= position) continue;
    const value = index.message(id);
    if (value && value.senderId !== userId && !index.deletion(id)) count++;
  }
  return count;
}

/** Every counted mention in `doc`: per mentioned user, each message naming them that someone else sent and nobody deleted. */
export function countedMentions(doc: Y.Doc): Array<{ userId: string; messageId: string }> {
  const index = roomIndex(doc);
  const mentions = mentionIndex(doc);
  const rows: Array<{ userId: string; messageId: string }> = [];
  for (const userId of mentions.users()) {
    for (const messageId of mentions.mentioning(userId)) {
      const value = index.message(messageId);
      if (value && value.senderId !== userId && !index.deletion(messageId)) rows.push({ userId, messageId });
    }
  }
  return rows;
}

/** Mentions of the user after their read position in this document (a room not segmented: the whole room). */
export function mentionCount(doc: Y.Doc, userId: string, cap = Infinity): number {
  return mentionsAfter(doc, readPosition(doc, userId), userId, cap);
}
