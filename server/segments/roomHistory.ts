import type { RoomRegistry } from '../sync/RoomRegistry.ts';
import type { Room } from '../sync/Room.ts';
import { type MessagePage, type ViewSources, getMessage, listMessages, messageCount } from '../../shared/roomDoc/queries.ts';
import type { MessageView } from '../../shared/roomDoc/messageView.ts';
import { SegmentIndex, segmentDocName } from '../../shared/roomDoc/segments.ts';
import { withPin } from '../../shared/roomDoc/pinReads.ts';

/*
 * Reading a room whose history may be in segments (shared/roomDoc/segments.ts), for the command
 * endpoint: which document a change goes to, a page of history across segments, one message.
 * Segments are loaded on demand and left to unload when idle (RoomRegistry), like any document.
 */

/** Segment n of the room, loaded now (at most SEGMENT_MAX_BYTES: a short load); it unloads when idle. */
export function loadSegment(registry: RoomRegistry, roomId: string, n: number): Room {
  const holder = {};
  const { room, release } = registry.acquire(segmentDocName(roomId, n), holder);
  release();
  return room;
}

/**
 * The document a command writes to: the room's own while it is not segmented; else the open
 * segment for a new message (`messageId` null) and the segment that holds it for anything about a
 * message (the open one for an id past every sealed range).
 */
export function documentFor(head: Room, roomId: string, messageId: string | null): string {
  const index = SegmentIndex.of(head.doc);
  if (!index.open) return roomId;
  const n = messageId === null ? index.open.n : (index.homeOf(messageId) ?? index.open.n);
  return segmentDocName(roomId, n);
}

/** The newest `limit` messages before `beforeId` (or overall), across the segments the page reaches, oldest first. */
export function historyPage(registry: RoomRegistry, head: Room, roomId: string, beforeId: string | undefined, limit: number, sources?: ViewSources): MessagePage {
  const index = SegmentIndex.of(head.doc);
  if (!index.open) return listMessages(head.doc, { ...(beforeId === undefined ? {} : { beforeId }), limit }, sources);
  const messages: MessageView[] = [];
  let hasMore = false;
  for (const n of index.newestFirst()) {
    if (!index.reachesBefore(n, beforeId)) continue;
    if (messages.length >= limit) {
      hasMore = true;
      break;
    }
    const page = listMessages(loadSegment(registry, roomId, n).doc, { ...(beforeId === undefined ? {} : { beforeId }), limit: limit - messages.length }, sources);
    messages.unshift(...page.messages);
    if (page.hasMore) {
      hasMore = true;
      break;
    }
  }
  // Read from segments, which hold no pins: the head's are added.
  return { messages: messages.map((view) => withPin(view, head.doc)), hasMore };
}

/** A message wherever it is (its home segment in a segmented room), or null. */
export function findMessage(registry: RoomRegistry, head: Room, roomId: string, messageId: string): MessageView | null {
  const index = SegmentIndex.of(head.doc);
  if (!index.open) return getMessage(head.doc, messageId);
  const n = index.homeOf(messageId) ?? index.open.n;
  const view = getMessage(loadSegment(registry, roomId, n).doc, messageId);
  return view && withPin(view, head.doc);
}

/**
 * The newest `limit` messages of a segmented room if the segments holding them are loaded, else
 * null (RecentPages then has the storage worker read them).
 */
export function newestPageLoaded(registry: RoomRegistry, head: Room, roomId: string, limit: number): MessageView[] | null {
  let held = 0;
  for (const n of SegmentIndex.of(head.doc).newestFirst()) {
    const segment = registry.get(segmentDocName(roomId, n));
    if (!segment) return null;
    held += messageCount(segment.doc);
    if (held >= limit) break;
  }
  return historyPage(registry, head, roomId, undefined, limit).messages;
}
