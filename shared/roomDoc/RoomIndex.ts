import type * as Y from 'yjs';
import {
  type DeletionValue,
  type MessageValue,
  type RoomMaps,
  inMainTimeline,
  isMessageId,
  isTombstone,
  parseDeletionValue,
  parseMessageEntry,
  parseReactionKey,
  parseReactionValue,
  roomMaps,
} from './layout.ts';
import { insertSorted, lowerBound, mergeSorted, removeSorted, upperBound } from './sortedIds.ts';

export interface ReactionEntry {
  readonly userId: string;
  readonly reaction: string;
  /** When it was added (ms). */
  readonly at: number;
}

/** Above this many ids changed in one transaction, one merge or filter beats a splice per id. */
const BATCH_THRESHOLD = 32;

/**
 * What the read functions need from a room document, kept in step with it: the valid messages as
 * a sorted id array (display order is id order), parsed values, deletions and reactions grouped by
 * message. Built once by a full scan, then updated from the changed keys of each transaction, so a
 * page of history costs O(log n + limit) instead of a sort of the whole room.
 *
 * It reflects the document as of the last finished transaction: Yjs runs observers when the
 * outermost transaction ends, so reads from inside a transaction do not see its own writes.
 */
export class RoomIndex {
  #ids: string[] = [];
  readonly #messages = new Map<string, MessageValue>();
  readonly #deletions = new Map<string, DeletionValue>();
  /** Message id -> reaction key -> entry. */
  readonly #reactions = new Map<string, Map<string, ReactionEntry>>();
  /** Deleted messages whose value still holds content: the work list of scrubDeleted. */
  readonly #unscrubbed = new Set<string>();
  /** Thread root id -> its replies held here, sorted (deleted ones included: they stay in place). */
  readonly #replies = new Map<string, string[]>();
  /** Replies not shown in the main timeline (no showInChannel): main-timeline reads skip them. */
  readonly #threadOnly = new Set<string>();
  readonly #maps: RoomMaps;
  readonly #unobserve: () => void;

  constructor(maps: RoomMaps) {
    this.#maps = maps;
    this.#build();
    // The keys a transaction changed, not observeDeep: values are plain JSON, never nested types.
    const onMessages = (event: Y.YMapEvent<unknown>): void => this.#syncMessages(event.changes.keys.keys());
    const onDeletions = (event: Y.YMapEvent<unknown>): void => this.#syncDeletions(event.changes.keys.keys());
    const onReactions = (event: Y.YMapEvent<unknown>): void => this.#syncReactions(event.changes.keys.keys());
    maps.messages.observe(onMessages);
    maps.deletions.observe(onDeletions);
    maps.reactions.observe(onReactions);
    this.#unobserve = () => {
      maps.messages.unobserve(onMessages);
      maps.deletions.unobserve(onDeletions);
      maps.reactions.unobserve(onReactions);
    };
  }

  get size(): number {
    return this.#ids.length;
  }

  /** The id at a position in display order. */
  idAt(index: number): string | undefined {
    return this.#ids[index];
  }

  /** Position of the first message whose id is >= `id`. */
  lowerBound(id: string): number {
    return lowerBound(this.#ids, id);
  }

  /** Position of the first message whose id is > `id`. */
  upperBound(id: string): number {
    return upperBound(this.#ids, id);
  }

  /** Ids at positions [start, end) in display order. */
  idsBetween(start: number, end: number): string[] {
    return this.#ids.slice(start, end);
  }

  message(id: string): MessageValue | undefined {
    return this.#messages.get(id);
  }

  deletion(id: string): DeletionValue | undefined {
    return this.#deletions.get(id);
  }

  reactions(messageId: string): Iterable<ReactionEntry> {
    return this.#reactions.get(messageId)?.values() ?? [];
  }

  /** The replies to `rootId` held in this document, in display order (deleted ones included). */
  replies(rootId: string): readonly string[] {
    return this.#replies.get(rootId) ?? [];
  }

  /** Roots with replies held in this document. */
  threadRoots(): IterableIterator<string> {
    return this.#replies.keys();
  }

  /** Whether the message is in the room's main timeline (not a reply, or a reply also shown there; layout.ts inMainTimeline). */
  inMainTimeline(id: string): boolean {
    return !this.#threadOnly.has(id);
  }

  /** Whether every message here is in the main timeline (no thread-only replies): main reads are plain index reads. */
  get allInMainTimeline(): boolean {
    return this.#threadOnly.size === 0;
  }

  unscrubbedIds(): string[] {
    return [...this.#unscrubbed];
  }

  dispose(): void {
    this.#unobserve();
  }

  #build(): void {
    const { messages, deletions, reactions } = this.#maps;
    messages.forEach((raw, key) => {
      const value = parseMessageEntry(key, raw);
      if (value) this.#messages.set(key, value);
    });
    this.#ids = [...this.#messages.keys()].sort();
    for (const id of this.#ids) this.#relate(id, undefined, this.#messages.get(id));
    deletions.forEach((_raw, key) => this.#syncDeletion(key));
    reactions.forEach((_raw, key) => this.#syncReaction(key));
  }

  #syncMessages(keys: Iterable<string>): void {
    const added: string[] = [];
    const removed: string[] = [];
    for (const key of keys) {
      // Re-read the current value rather than trusting the event's action: the index may have been
      // built inside the very transaction that fired the event, so it may already hold the change.
      const value = parseMessageEntry(key, this.#maps.messages.get(key));
      const previous = this.#messages.get(key);
      const had = previous !== undefined;
      this.#relate(key, previous, value ?? undefined);
      if (value) {
        this.#messages.set(key, value);
        if (!had) added.push(key);
      } else if (had) {
        this.#messages.delete(key);
        removed.push(key);
      }
      this.#refreshScrub(key);
    }
    this.#removeIds(removed);
    this.#addIds(added);
  }

  #addIds(added: string[]): void {
    added.sort();
    const last = this.#ids.at(-1);
    // Ids are time-ordered (UUIDv7): new messages, and the slices of a room loaded in order, come
    // after everything indexed, and are appended without touching the rest.
    if (added.length > 0 && (last === undefined || added[0]! > last)) {
      for (const id of added) this.#ids.push(id);
    } else if (added.length > BATCH_THRESHOLD) {
      this.#ids = mergeSorted(this.#ids, added);
    } else {
      for (const id of added) insertSorted(this.#ids, id);
    }
  }

  #removeIds(removed: readonly string[]): void {
    if (removed.length > BATCH_THRESHOLD) {
      const gone = new Set(removed);
      this.#ids = this.#ids.filter((id) => !gone.has(id));
    } else {
      for (const id of removed) removeSorted(this.#ids, id);
    }
  }

  /** Keeps the thread lists in step with a message's value (its parentId never changes by the rules; a malformed document may try). */
  #relate(id: string, before: MessageValue | undefined, after: MessageValue | undefined): void {
    const from = before?.parentId;
    const to = after?.parentId;
    if (from !== to && from !== undefined) {
      const list = this.#replies.get(from);
      if (list) {
        removeSorted(list, id);
        if (list.length === 0) this.#replies.delete(from);
      }
    }
    if (to !== undefined && from !== to) {
      const list = this.#replies.get(to);
      if (list) insertSorted(list, id);
      else this.#replies.set(to, [id]);
    }
    if (after && !inMainTimeline(after)) this.#threadOnly.add(id);
    else this.#threadOnly.delete(id);
  }

  #syncDeletions(keys: Iterable<string>): void {
    for (const key of keys) this.#syncDeletion(key);
  }

  #syncDeletion(key: string): void {
    const value = isMessageId(key) ? parseDeletionValue(this.#maps.deletions.get(key)) : null;
    if (value) this.#deletions.set(key, value);
    else this.#deletions.delete(key);
    this.#refreshScrub(key);
  }

  #syncReactions(keys: Iterable<string>): void {
    for (const key of keys) this.#syncReaction(key);
  }

  #syncReaction(key: string): void {
    const parsed = parseReactionKey(key);
    if (!parsed) return;
    const at = parseReactionValue(this.#maps.reactions.get(key));
    const group = this.#reactions.get(parsed.messageId);
    if (at === null) {
      group?.delete(key);
      if (group?.size === 0) this.#reactions.delete(parsed.messageId);
      return;
    }
    const entry: ReactionEntry = { userId: parsed.userId, reaction: parsed.reaction, at };
    if (group) group.set(key, entry);
    else this.#reactions.set(parsed.messageId, new Map([[key, entry]]));
  }

  #refreshScrub(id: string): void {
    const value = this.#messages.get(id);
    if (value && this.#deletions.has(id) && !isTombstone(value)) this.#unscrubbed.add(id);
    else this.#unscrubbed.delete(id);
  }
}

const indexes = new WeakMap<Y.Doc, RoomIndex>();

/** The document's index, built on first use and kept until the document is destroyed. */
export function roomIndex(doc: Y.Doc): RoomIndex {
  const existing = indexes.get(doc);
  if (existing) return existing;
  const index = new RoomIndex(roomMaps(doc));
  indexes.set(doc, index);
  doc.once('destroy', () => {
    index.dispose();
    indexes.delete(doc);
  });
  return index;
}
