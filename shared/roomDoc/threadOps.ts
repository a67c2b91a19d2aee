import type * as Y from 'yjs';
import { type Actor, assertActor } from './actor.ts';
import { MAX_THREAD_PARTICIPANTS, type ThreadSummary, headMaps, parseThreadReadKey, threadReadKey } from './headMaps.ts';
import { isMessageId, parseMessageEntry, parseReadValue, roomMaps } from './layout.ts';
import { roomIndex } from './RoomIndex.ts';
import { ThreadReadIndex } from './threadReadIndex.ts';
import { SegmentIndex } from './segments.ts';
import { type Result, failure } from './result.ts';

/*
 * Threads (docs/protocol.md, "Conversations"): read positions per thread in the head's
 * `threadReads` (one key per device, like `reads`), unread replies per thread, and the summary
 * the server derives into the head's `threads` (the same function rebuilds it, and tests check
 * the server's incremental one against it).
 */

export type MarkThreadReadResult = Result<'not_found' | 'invalid_payload', { readonly moved: boolean }>;

/** A user's read position in the thread under `rootId` (the newest reply read on any device), or null. */
export function threadReadPosition(head: Y.Doc, rootId: string, userId: string): string | null {
  const { threadReads } = headMaps(head);
  let position: string | null = null;
  for (const key of ThreadReadIndex.of(head).keysOf(rootId, userId)) {
    const value = parseReadValue(threadReads.get(key));
    if (value !== null && (position === null || value > position)) position = value;
  }
  return position;
}

/** Every thread read position of one user: root id -> newest reply read. */
export function threadReadPositions(head: Y.Doc, userId: string): Map<string, string> {
  const positions = new Map<string, string>();
  headMaps(head).threadReads.forEach((raw, key) => {
    const parsed = parseThreadReadKey(key);
    const value = parseReadValue(raw);
    if (!parsed || parsed.userId !== userId || value === null) return;
    const current = positions.get(parsed.rootId);
    if (current === undefined || value > current) positions.set(parsed.rootId, value);
  });
  return positions;
}

/**
 * Moves the actor's read position in the thread under `rootId` forward to `replyId` (never
 * backwards: moved false), in the head, and deletes the actor's other keys for that thread that it
 * supersedes (markRead's rule, per thread). In a room not segmented the root and the reply must be
 * in `head`; in a segmented one the caller found them in their segments.
 */
export function markThreadRead(head: Y.Doc, actor: Actor, rootId: string, replyId: string, origin?: unknown): MarkThreadReadResult {
  assertActor(actor);
  if (!isMessageId(rootId) || !isMessageId(replyId)) return failure('not_found', `no message ${replyId} in thread ${rootId}`);
  if (!SegmentIndex.of(head).segmented) {
    const { messages } = roomMaps(head);
    const root = parseMessageEntry(rootId, messages.get(rootId));
    if (!root) return failure('not_found', `no message ${rootId}`);
    if (root.parentId !== undefined) return failure('invalid_payload', `message ${rootId} is a reply, not a thread root`);
    const reply = parseMessageEntry(replyId, messages.get(replyId));
    if (!reply || (reply.parentId !== rootId && replyId !== rootId)) return failure('not_found', `no reply ${replyId} in thread ${rootId}`);
  }
  const current = threadReadPosition(head, rootId, actor.userId);
  if (current !== null && replyId <= current) return { ok: true, moved: false };
  const { threadReads } = headMaps(head);
  const own = threadReadKey({ rootId, userId: actor.userId, clientId: head.clientID });
  const superseded: string[] = [];
  for (const key of ThreadReadIndex.of(head).keysOf(rootId, actor.userId)) {
    if (key === own) continue;
    const value = parseReadValue(threadReads.get(key));
    if (value === null || value <= replyId) superseded.push(key);
  }
  head.transact(() => {
    threadReads.set(own, replyId);
    for (const key of superseded) threadReads.delete(key);
  }, origin);
  return { ok: true, moved: true };
}

/**
 * Replies to `rootId` in `docs` after `position` (null: all) that others sent and nobody deleted,
 * each counted once (a reply the server is moving may sit in two documents for a moment).
 */
export function threadUnreadAfter(docs: Iterable<Y.Doc>, rootId: string, position: string | null, userId: string): number {
  const counted = new Set<string>();
  for (const doc of docs) {
    const index = roomIndex(doc);
    for (const id of index.replies(rootId)) {
      if (position !== null && id <= position) continue;
      const value = index.message(id);
      if (value && value.senderId !== userId && !index.deletion(id)) counted.add(id);
    }
  }
  return counted.size;
}

/** One reply as a summary needs it. */
export interface ReplyFact {
  readonly id: string;
  readonly senderId: string | null;
  readonly createdAt: number;
  readonly deleted: boolean;
}

/** The replies to `rootId` held in `doc`. */
export function repliesIn(doc: Y.Doc, rootId: string): ReplyFact[] {
  const index = roomIndex(doc);
  return index.replies(rootId).flatMap((id) => {
    const value = index.message(id);
    return value ? [{ id, senderId: value.senderId, createdAt: value.createdAt, deleted: index.deletion(id) !== undefined }] : [];
  });
}

/**
 * A thread's summary from all of its replies: `replyCount` those not deleted; `lastReplyAt` and
 * `participants` over every reply, deleted ones too (who took part, and when the thread last
 * moved, do not change when a reply is taken back: the server's summary only ever grows them).
 */
export function summarize(replies: Iterable<ReplyFact>, segments: readonly number[]): ThreadSummary {
  const byId = new Map<string, ReplyFact>();
  for (const reply of replies) byId.set(reply.id, reply);
  const ordered = [...byId.values()].sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
  const participants: string[] = [];
  for (const { senderId } of ordered) {
    if (senderId !== null && !participants.includes(senderId) && participants.length < MAX_THREAD_PARTICIPANTS) participants.push(senderId);
  }
  return {
    replyCount: ordered.filter((r) => !r.deleted).length,
    lastReplyAt: ordered[0]?.createdAt ?? null,
    participants,
    segments: [...new Set(segments)].sort((a, b) => a - b),
  };
}
