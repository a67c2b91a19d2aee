import type { RoomRegistry } from '../sync/RoomRegistry.ts';
import type { Room } from '../sync/Room.ts';
import { type MessagePage, type ViewSources, getMessage, listMessages } from '../../shared/roomDoc/queries.ts';
import type { MessageView } from '../../shared/roomDoc/messageView.ts';
import { CONVERTING_KEY, SegmentIndex, segmentDocName, segmentsMap } from '../../shared/roomDoc/segments.ts';
import { withPin } from '../../shared/roomDoc/pinReads.ts';
import { type DocAccess, DocNotLoaded, loadedOnly } from './loadedDocs.ts';

/*
 * Reading a room whose history may be in segments (shared/roomDoc/segments.ts), for the command
 * endpoint: which document a change goes to, a page of history across segments, one message.
 * Segments are loaded on demand and left to unload when idle (RoomRegistry), like any document.
 *
 * Each read reaches segments through a DocAccess: withLoaded's, which loads what a read lacked
 * through either store and runs the read again, so a read never awaits in the middle and sees
 * every document in one turn; or, for a command, its HeldDocs' (which also keeps what it read
 * loaded until the command is answered).
 */

/** Segment n of the room, reached through `docs`. */
export function loadSegment(docs: DocAccess, roomId: string, n: number): Room {
  return docs(segmentDocName(roomId, n));
}

/**
 * The document a command writes to: the room's own while it is not segmented; else the open
 * segment for a new message (`messageId` null) and the segment that holds it for anything about a
 * message (the open one for an id past every sealed range). While the room converts, a new message
 * goes to the head (the conversion moves it later) and a change to the document holding its message.
 */
export function documentFor(docs: DocAccess, head: Room, roomId: string, messageId: string | null): string {
  const index = SegmentIndex.of(head.doc);
  if (!index.open) {
    const n = messageId !== null && converting(head) ? holderWhileConverting(docs, head, roomId, index, messageId) : null;
    return n === null ? roomId : segmentDocName(roomId, n);
  }
  const n = messageId === null ? index.open.n : (index.homeOf(messageId) ?? index.open.n);
  return segmentDocName(roomId, n);
}

/** Whether the head is being converted into segments (Segmenter): its oldest messages are moving out, newest first stay. */
function converting(head: Room): boolean {
  return segmentsMap(head.doc).get(CONVERTING_KEY) === true;
}

/**
 * While a head converts, the segment that holds `messageId`: a sealed one whose range reaches it,
 * else the one being filled (numbered after the sealed ones, not named in the head yet) if it
 * holds it; null for the head.
 */
function holderWhileConverting(docs: DocAccess, head: Room, roomId: string, index: SegmentIndex, messageId: string): number | null {
  const sealed = index.homeOf(messageId);
  if (sealed !== null) return sealed;
  if (getMessage(head.doc, messageId)) return null;
  const filling = index.sealed.length;
  return getMessage(loadSegment(docs, roomId, filling).doc, messageId) ? filling : null;
}

/**
 * The room's documents newest first, each loaded when reached: its segments, newest first; while
 * it converts, the head (the newest messages), the segment being filled, then the sealed ones.
 */
function documentsNewestFirst(docs: DocAccess, head: Room, roomId: string, index: SegmentIndex): Array<{ n: number | null; doc: () => Room }> {
  const sealedNewestFirst = index.sealed.map((s) => s.n).reverse();
  if (index.open) return [index.open.n, ...sealedNewestFirst].map((n) => ({ n, doc: () => loadSegment(docs, roomId, n) }));
  const filling = index.sealed.length;
  return [
    { n: null, doc: () => head },
    ...[filling, ...sealedNewestFirst].map((n) => ({ n, doc: () => loadSegment(docs, roomId, n) })),
  ];
}

/** The newest `limit` messages before `beforeId` (or overall), across the documents the page reaches, oldest first. */
export function historyPage(docs: DocAccess, head: Room, roomId: string, beforeId: string | undefined, limit: number, sources?: ViewSources): MessagePage {
  const index = SegmentIndex.of(head.doc);
  if (!index.open && !converting(head)) return listMessages(head.doc, { ...(beforeId === undefined ? {} : { beforeId }), limit }, sources);
  const messages: MessageView[] = [];
  let hasMore = false;
  for (const { n, doc } of documentsNewestFirst(docs, head, roomId, index)) {
    if (n !== null && !index.reachesBefore(n, beforeId)) continue;
    if (messages.length >= limit) {
      hasMore = true;
      break;
    }
    const page = listMessages(doc().doc, { ...(beforeId === undefined ? {} : { beforeId }), limit: limit - messages.length }, sources);
    messages.unshift(...page.messages);
    if (page.hasMore) {
      hasMore = true;
      break;
    }
  }
  // Read from segments, which hold no pins: the head's are added.
  return { messages: messages.map((view) => withPin(view, head.doc)), hasMore };
}

/** A message wherever it is (its home segment in a segmented room, its document while the room converts), or null. */
export function findMessage(docs: DocAccess, head: Room, roomId: string, messageId: string): MessageView | null {
  const index = SegmentIndex.of(head.doc);
  if (!index.open && !converting(head)) return getMessage(head.doc, messageId);
  const n = index.open ? (index.homeOf(messageId) ?? index.open.n) : holderWhileConverting(docs, head, roomId, index, messageId);
  const view = getMessage(n === null ? head.doc : loadSegment(docs, roomId, n).doc, messageId);
  return view && withPin(view, head.doc);
}

/**
 * The newest `limit` messages of a segmented room if the segments holding them are loaded, else
 * null (RecentPages then has the storage worker read them). Loads nothing.
 */
export function newestPageLoaded(registry: RoomRegistry, head: Room, roomId: string, limit: number): MessageView[] | null {
  try {
    return historyPage(loadedOnly(registry), head, roomId, undefined, limit).messages;
  } catch (err) {
    if (err instanceof DocNotLoaded) return null;
    throw err;
  }
}
