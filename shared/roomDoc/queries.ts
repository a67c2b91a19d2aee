import type * as Y from 'yjs';
import { type MessageView, toMessageView } from './messageView.ts';
import { pinOf } from './pinReads.ts';
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

/** A document that is a room's head (one not segmented) holds its pins too; a segment holds none (pinReads.withPin adds the head's). */
function viewAt(doc: Y.Doc, index: RoomIndex, id: string): MessageView | null {
  const value = index.message(id);
  return value ? toMessageView(value, index.deletion(id), index.reactions(id), { pin: pinOf(doc, id) }) : null;
}

export function getMessage(doc: Y.Doc, id: string): MessageView | null {
  return viewAt(doc, roomIndex(doc), id);
}

/** The newest `limit` messages before `beforeId` (or overall), in O(log n + limit). */
export function listMessages(doc: Y.Doc, { beforeId, limit }: ListMessagesOptions): MessagePage {
  if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError(`limit must be a positive integer, got ${limit}`);
  const index = roomIndex(doc);
  const end = beforeId === undefined ? index.size : index.lowerBound(beforeId);
  const start = Math.max(0, end - limit);
  const messages = index.idsBetween(start, end).flatMap((id) => viewAt(doc, index, id) ?? []);
  return { messages, hasMore: start > 0 };
}

/** The newest message, deleted or not. */
export function lastMessage(doc: Y.Doc): MessageView | null {
  const index = roomIndex(doc);
  const id = index.idAt(index.size - 1);
  return id === undefined ? null : viewAt(doc, index, id);
}

/** Valid messages in the room, deleted ones included. */
export function messageCount(doc: Y.Doc): number {
  return roomIndex(doc).size;
}

/** Messages after the user's read position that others sent and nobody deleted. */
export function unreadCount(doc: Y.Doc, userId: string, cap = Infinity): number {
  return unreadAfter(doc, readPosition(doc, userId), userId, cap);
}

/** Messages in `doc` after `position` (a message id, possibly of another document; null: all) that others sent and nobody deleted. */
export function unreadAfter(doc: Y.Doc, position: string | null, userId: string, cap = Infinity): number {
  const index = roomIndex(doc);
  const start = position === null ? 0 : index.upperBound(position);
  let count = 0;
  // Newest first, so that a cap stops the scan early (a member who never read a big room).
  for (let i = index.size - 1; i >= start && count < cap; i--) {
    const id = index.idAt(i);
    const value = id === undefined ? undefined : index.message(id);
    if (id !== undefined && value && value.senderId !== userId && !index.deletion(id)) count++;
  }
  return count;
}
