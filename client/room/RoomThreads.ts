import type * as Y from 'yjs';
import type { ThreadSummary } from '../../shared/roomDoc/headMaps.ts';
import type { MessageView, QuotedPreview } from '../../shared/roomDoc/messageView.ts';
import { type MessagePage, listThread, quoteIn, threadSummaryIn } from '../../shared/roomDoc/queries.ts';
import { roomIndex } from '../../shared/roomDoc/RoomIndex.ts';
import { threadReadPosition, threadUnreadAfter } from '../../shared/roomDoc/threadOps.ts';
import { ClientError } from '../errors/ClientError.ts';
import type { RoomDocuments } from './RoomDocuments.ts';
import type { RoomReplica } from './RoomReplica.ts';

/**
 * Threads and quotes of an open room (docs/client.md, "Threads and quoted replies"): a root's
 * summary from the head's `threads` map (written by the server) plus my replies it does not count
 * yet, a quote read from the quoted message as it is now (its segment opened when not held here),
 * a thread's pages across the segments its summary lists, and unread replies per thread.
 */
export class RoomThreads {
  readonly #head: RoomReplica;
  readonly #docs: RoomDocuments;
  readonly #userId: string;

  constructor(deps: { head: RoomReplica; docs: RoomDocuments; userId: string }) {
    this.#head = deps.head;
    this.#docs = deps.docs;
    this.#userId = deps.userId;
  }

  /** The view with its thread summary and its quote filled in from wherever they are held. */
  enrich(view: MessageView): MessageView {
    const thread = view.parentId === undefined ? this.summary(view.id) : null;
    const quoted = view.quotedMessageId === undefined || view.deletedAt !== null ? null : (view.quoted ?? this.#quote(view.quotedMessageId));
    const { thread: _t, quoted: _q, ...rest } = view;
    return { ...rest, ...(thread ? { thread } : {}), ...(quoted ? { quoted } : {}) };
  }

  /**
   * The summary of the thread under `rootId`: the server's, plus my replies it cannot count yet
   * (not acknowledged: the server writes the summary in the commit that acknowledges them).
   */
  summary(rootId: string): ThreadSummary | null {
    const server = threadSummaryIn(this.#head.doc, rootId);
    let mine = 0;
    let newest: number | null = null;
    for (const replica of this.#docs.held()) {
      const index = roomIndex(replica.doc);
      for (const id of index.replies(rootId)) {
        const value = index.message(id);
        if (!value || value.senderId !== this.#userId || index.deletion(id) || replica.messageState(id)?.state !== 'pending') continue;
        mine++;
        newest = Math.max(newest ?? 0, value.createdAt);
      }
    }
    if (mine === 0) return server;
    const base = server ?? { replyCount: 0, lastReplyAt: null, participants: [], segments: [] };
    return {
      ...base,
      replyCount: base.replyCount + mine,
      lastReplyAt: Math.max(base.lastReplyAt ?? 0, newest ?? 0),
      participants: [this.#userId, ...base.participants.filter((p) => p !== this.#userId)].slice(0, 20),
    };
  }

  /**
   * The newest `limit` replies to `rootId` before `beforeId`, oldest first (deleted ones as
   * tombstones). In a segmented room it reads the segments the summary lists; one not open here
   * yet opens, and its replies follow with a `change`.
   */
  page(rootId: string, { beforeId, limit = 50 }: { beforeId?: string; limit?: number } = {}): MessagePage {
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > 1000) throw new ClientError('invalid_payload', 'limit must be an integer from 1 to 1000');
    const cursor = { ...(beforeId === undefined ? {} : { beforeId }), limit };
    const byId = new Map<string, MessageView>();
    let hasMore = false;
    for (const doc of this.#threadDocs(rootId)) {
      const page = listThread(doc, rootId, cursor);
      for (const view of page.messages) byId.set(view.id, this.enrich(view));
      hasMore ||= page.hasMore;
    }
    const all = [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return { messages: all.slice(-limit), hasMore: hasMore || all.length > limit };
  }

  /** Replies to `rootId` after the user's read position in that thread that others sent and nobody deleted (those held here). */
  unreadCount(rootId: string, userId = this.#userId): number {
    return threadUnreadAfter(this.#threadDocs(rootId), rootId, threadReadPosition(this.#head.doc, rootId, userId), userId);
  }

  /** The documents that may hold replies to `rootId` and are readable now (others open). */
  #threadDocs(rootId: string): Y.Doc[] {
    if (!this.#docs.segmented) return [this.#head.doc];
    const listed = threadSummaryIn(this.#head.doc, rootId)?.segments ?? [];
    const held = this.#docs.held().map((r) => r.doc);
    const homes = new Set(listed);
    const home = this.#docs.homeOf(rootId);
    if (home !== null) homes.add(home);
    const docs = [...homes].flatMap((n) => this.#docs.segmentDoc(n) ?? []);
    // My own replies just written may sit in the open segment before the summary lists it.
    return [...new Set([...docs, ...held.filter((doc) => roomIndex(doc).replies(rootId).length > 0)])];
  }

  /** The quote of message `id` as held here; in a segmented room, its segment opens when not held (a `change` follows). */
  #quote(id: string): QuotedPreview | null {
    for (const replica of this.#docs.held()) {
      const quote = quoteIn(replica.doc, id);
      if (quote) return quote;
    }
    const home = this.#docs.homeOf(id);
    const doc = home === null ? null : this.#docs.segmentDoc(home);
    return doc ? quoteIn(doc, id) : null;
  }
}

/** What ChatRoom offers of threads (`room.threads`); messages come as the app reads them. */
export interface ThreadApi<M> {
  /** The newest `limit` (default 50) replies to `rootId` before `beforeId`, oldest first. */
  page(rootId: string, opts?: { beforeId?: string; limit?: number }): { messages: M[]; hasMore: boolean };
  /** Moves my read position in the thread forward to `replyId` (never back: `moved` false). */
  markRead(rootId: string, replyId: string): Promise<{ moved: boolean }>;
  /** Replies after my read position in the thread that others sent and nobody deleted. */
  unreadCount(rootId: string): number;
  /** The thread's summary: the server's plus my replies not acknowledged yet; null without replies. */
  summary(rootId: string): ThreadSummary | null;
}

export function threadApi<M>(threads: RoomThreads, toClient: (view: MessageView) => M, markRead: (rootId: string, replyId: string) => Promise<{ moved: boolean }>): ThreadApi<M> {
  return {
    page: (rootId, opts) => {
      const page = threads.page(rootId, opts);
      return { messages: page.messages.map(toClient), hasMore: page.hasMore };
    },
    markRead,
    unreadCount: (rootId) => threads.unreadCount(rootId),
    summary: (rootId) => threads.summary(rootId),
  };
}
