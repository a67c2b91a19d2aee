import type * as Y from 'yjs';
import { parseThreadSummary, headMaps } from './headMaps.ts';
import { pinOf } from './pinReads.ts';
import type { PinValue } from './headMaps.ts';
import { type MessageView, type QuotedPreview, quotedPreviewOf, toMessageView } from './messageView.ts';
import type { ThreadSummary } from './headMaps.ts';
import { readPosition } from './readOps.ts';
import { type RoomIndex, roomIndex } from './RoomIndex.ts';

export interface ListMessagesOptions {
  /** Only messages strictly older than this id (a cursor: it need not exist in the room). */
  readonly beforeId?: string;
  readonly limit: number;
}

export interface MessagePage {
  /** Ascending display order. */
  readonly messages: MessageView[];
  /** Whether older messages exist before the first one returned. */
  readonly hasMore: boolean;
}

/**
 * Where a view's derived parts come from (docs/protocol.md, "Derived at read time"): a root's
 * thread summary from the room's head, a quote from the quoted message as it is now. By default
 * both are read from the document itself, which is all of it in a room not segmented; a reader of
 * a segmented room passes the head and a lookup across the segments it holds.
 */
export interface ViewSources {
  /** The summary of the thread under `rootId`, or null. */
  thread(rootId: string): ThreadSummary | null;
  /** The quote of message `id`, or null when the reader does not hold it. */
  quote(id: string): QuotedPreview | null;
  /** The pin of message `id` in the room's head, or null (absent: none; pinReads.withPin adds them later). */
  pin?(id: string): PinValue | null;
}

/** The head's thread summaries (the room document while not segmented; a head otherwise). */
export function threadSummaryIn(head: Y.Doc, rootId: string): ThreadSummary | null {
  // Most messages have no thread: no parse (a failed zod parse builds an error) for them.
  const raw = headMaps(head).threads.get(rootId);
  return raw === undefined ? null : parseThreadSummary(raw);
}

/** The quote of message `id` as `doc` holds it now, or null when it does not. */
export function quoteIn(doc: Y.Doc, id: string): QuotedPreview | null {
  const index = roomIndex(doc);
  const value = index.message(id);
  return value ? quotedPreviewOf(value, index.deletion(id) !== undefined) : null;
}

/** Sources read from one document: all of a room not segmented. */
export const docSources = (doc: Y.Doc): ViewSources => ({
  thread: (id) => threadSummaryIn(doc, id),
  quote: (id) => quoteIn(doc, id),
  pin: (id) => pinOf(doc, id),
});

function viewAt(index: RoomIndex, id: string, sources: ViewSources): MessageView | null {
  const value = index.message(id);
  if (!value) return null;
  const thread = value.parentId === undefined ? sources.thread(id) : null;
  const quoted = value.quotedMessageId === undefined ? null : sources.quote(value.quotedMessageId);
  return toMessageView(value, index.deletion(id), index.reactions(id), { thread, quoted, pin: sources.pin?.(id) ?? null });
}

export function getMessage(doc: Y.Doc, id: string, sources: ViewSources = docSources(doc)): MessageView | null {
  return viewAt(roomIndex(doc), id, sources);
}

/**
 * The ids of the main-timeline messages at positions before `end`, newest `limit` of them, oldest
 * first, and the position where the scan stopped. Thread-only replies are skipped; in a document
 * without any this is a plain slice.
 */
export function mainIdsBefore(index: RoomIndex, end: number, limit: number): { ids: string[]; start: number } {
  if (index.allInMainTimeline) {
    const start = Math.max(0, end - limit);
    return { ids: index.idsBetween(start, end), start };
  }
  const ids: string[] = [];
  let i = end - 1;
  for (; i >= 0 && ids.length < limit; i--) {
    const id = index.idAt(i);
    if (id !== undefined && index.inMainTimeline(id)) ids.push(id);
  }
  // Skip thread-only replies below, so that hasMore says whether a main-timeline message is left.
  while (i >= 0 && !index.inMainTimeline(index.idAt(i) ?? '')) i--;
  return { ids: ids.reverse(), start: i + 1 };
}

/** The ids of the oldest `limit` main-timeline messages at positions from `start` on, and the position after the last one read. */
export function mainIdsFrom(index: RoomIndex, start: number, limit: number): { ids: string[]; end: number } {
  if (index.allInMainTimeline) {
    const end = Math.min(index.size, start + limit);
    return { ids: index.idsBetween(start, end), end };
  }
  const ids: string[] = [];
  let i = start;
  for (; i < index.size && ids.length < limit; i++) {
    const id = index.idAt(i);
    if (id !== undefined && index.inMainTimeline(id)) ids.push(id);
  }
  while (i < index.size && !index.inMainTimeline(index.idAt(i) ?? '')) i++;
  return { ids, end: i };
}

/**
 * The newest `limit` messages of the main timeline before `beforeId` (or overall), in
 * O(log n + limit) (plus the thread-only replies in between). Replies without showInChannel are
 * read with listThread.
 */
export function listMessages(doc: Y.Doc, { beforeId, limit }: ListMessagesOptions, sources: ViewSources = docSources(doc)): MessagePage {
  if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError(`limit must be a positive integer, got ${limit}`);
  const index = roomIndex(doc);
  const end = beforeId === undefined ? index.size : index.lowerBound(beforeId);
  const { ids, start } = mainIdsBefore(index, end, limit);
  const messages = ids.flatMap((id) => viewAt(index, id, sources) ?? []);
  return { messages, hasMore: start > 0 };
}

/**
 * The newest `limit` replies to `rootId` held in `doc` before `beforeId` (or overall), oldest
 * first, deleted ones included (as tombstones); `hasMore` when older replies are held here.
 */
export function listThread(doc: Y.Doc, rootId: string, { beforeId, limit }: ListMessagesOptions, sources: ViewSources = docSources(doc)): MessagePage {
  if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError(`limit must be a positive integer, got ${limit}`);
  const index = roomIndex(doc);
  const replies = index.replies(rootId);
  let end = replies.length;
  if (beforeId !== undefined) {
    let lo = 0;
    while (lo < end) {
      const mid = (lo + end) >>> 1;
      if ((replies[mid] ?? '') < beforeId) lo = mid + 1;
      else end = mid;
    }
  }
  const start = Math.max(0, end - limit);
  const messages = replies.slice(start, end).flatMap((id) => viewAt(index, id, sources) ?? []);
  return { messages, hasMore: start > 0 };
}

/** The newest message of the main timeline, deleted or not. */
export function lastMessage(doc: Y.Doc, sources: ViewSources = docSources(doc)): MessageView | null {
  const index = roomIndex(doc);
  const id = mainIdsBefore(index, index.size, 1).ids[0];
  return id === undefined ? null : viewAt(index, id, sources);
}

/** Valid messages in the document, deleted ones and replies included. */
export function messageCount(doc: Y.Doc): number {
  return roomIndex(doc).size;
}

/** Main-timeline messages after the user's read position that others sent and nobody deleted (replies count in their thread: threadOps.ts). */
export function unreadCount(doc: Y.Doc, userId: string, cap = Infinity): number {
  return unreadAfter(doc, readPosition(doc, userId), userId, cap);
}

/**
 * Main-timeline messages in `doc` after `position` (a message id, possibly of another document;
 * null: all) that others sent and nobody deleted. Thread-only replies are not counted here: like
 * Slack and Stream, a room's unread count is its timeline's, and each thread counts its own.
 */
export function unreadAfter(doc: Y.Doc, position: string | null, userId: string, cap = Infinity): number {
  const index = roomIndex(doc);
  const start = position === null ? 0 : index.upperBound(position);
  let count = 0;
  // Newest first, so that a cap stops the scan early (a member who never read a big room).
  for (let i = index.size - 1; i >= start && count < cap; i--) {
    const id = index.idAt(i);
    const value = id === undefined ? undefined : index.message(id);
    if (id !== undefined && value && value.senderId !== userId && !index.deletion(id) && index.inMainTimeline(id)) count++;
  }
  return count;
}
