import type { Room } from '../sync/Room.ts';
import { loadSegment } from '../segments/roomHistory.ts';
import type { DocAccess } from '../segments/loadedDocs.ts';
import { type MessagePage, type ViewSources, docSources, getMessage, listThread, quoteIn, threadSummaryIn } from '../../shared/roomDoc/queries.ts';
import type { MessageView } from '../../shared/roomDoc/messageView.ts';
import { pinOf } from '../../shared/roomDoc/pinReads.ts';
import { SegmentIndex } from '../../shared/roomDoc/segments.ts';

/*
 * Reading threads and quotes on the server (the command endpoint): a segmented room's views take
 * their thread summaries from the head and their quotes from whichever segment holds the quoted
 * message, loaded for the purpose (it unloads when idle, like any segment a command reads).
 * Segments are reached through `docs` (DocAccess) as in roomHistory.ts: with an asynchronous store,
 * call these inside withLoaded or HeldDocs.run.
 */

/** Where the server's views of a room take their derived parts from (queries.ts, ViewSources). */
export function roomSources(docs: DocAccess, head: Room, roomId: string): ViewSources {
  const index = SegmentIndex.of(head.doc);
  if (!index.open) return docSources(head.doc);
  return {
    thread: (rootId) => threadSummaryIn(head.doc, rootId),
    pin: (id) => pinOf(head.doc, id),
    quote: (id) => {
      const n = index.homeOf(id);
      return n === null ? null : quoteIn(loadSegment(docs, roomId, n).doc, id);
    },
  };
}

/** A message wherever it is, its derived parts filled in, or null. */
export function findView(docs: DocAccess, head: Room, roomId: string, messageId: string): MessageView | null {
  const index = SegmentIndex.of(head.doc);
  const sources = roomSources(docs, head, roomId);
  if (!index.open) return getMessage(head.doc, messageId, sources);
  const n = index.homeOf(messageId) ?? index.open.n;
  return getMessage(loadSegment(docs, roomId, n).doc, messageId, sources);
}

/**
 * The newest `limit` replies to `rootId` before `beforeId` (or overall), oldest first, deleted ones
 * as tombstones. A segmented room reads the segments the root's summary lists (and the root's own).
 */
export function threadPage(docs: DocAccess, head: Room, roomId: string, rootId: string, beforeId: string | undefined, limit: number): MessagePage {
  const index = SegmentIndex.of(head.doc);
  const cursor = { ...(beforeId === undefined ? {} : { beforeId }), limit };
  const sources = roomSources(docs, head, roomId);
  if (!index.open) return listThread(head.doc, rootId, cursor, sources);
  const listed = threadSummaryIn(head.doc, rootId)?.segments ?? [];
  const homes = new Set([...listed, index.homeOf(rootId) ?? index.open.n]);
  const byId = new Map<string, MessageView>();
  let olderHeld = false;
  for (const n of homes) {
    const page = listThread(loadSegment(docs, roomId, n).doc, rootId, cursor, sources);
    for (const view of page.messages) byId.set(view.id, view);
    olderHeld ||= page.hasMore;
  }
  const all = [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { messages: all.slice(-limit), hasMore: olderHeld || all.length > limit };
}

export type RelationCheck = { readonly ok: true } | { readonly ok: false; readonly code: 'not_found' | 'invalid_payload'; readonly message: string };

/** Whether a new message may reply to `parentId` and quote `quotedId` (docs/commands.md, send_message errors). */
export function checkRelations(docs: DocAccess, head: Room, roomId: string, relations: { parentId?: string | undefined; quotedId?: string | undefined }): RelationCheck {
  const { parentId, quotedId } = relations;
  if (parentId !== undefined) {
    const parent = findView(docs, head, roomId, parentId);
    if (!parent) return { ok: false, code: 'not_found', message: `no message ${parentId} to reply to` };
    if (parent.parentId !== undefined) return { ok: false, code: 'invalid_payload', message: `message ${parentId} is a reply: threads are one level deep, reply to ${parent.parentId}` };
  }
  if (quotedId !== undefined && !findView(docs, head, roomId, quotedId)) return { ok: false, code: 'not_found', message: `no message ${quotedId} to quote` };
  return { ok: true };
}
