import type * as Y from 'yjs';
import type { Logger } from '../log.ts';
import type { Room } from '../sync/Room.ts';
import type { RoomRegistry } from '../sync/RoomRegistry.ts';
import { SERVER_ORIGIN, STORAGE_ORIGIN } from '../sync/origins.ts';
import { MAX_THREAD_PARTICIPANTS, type ThreadSummary, headMaps, parseThreadSummary } from '../../shared/roomDoc/headMaps.ts';
import { ROOT } from '../../shared/roomDoc/layout.ts';
import { jsonEqual } from '../../shared/roomDoc/jsonEqual.ts';
import { roomIndex } from '../../shared/roomDoc/RoomIndex.ts';
import { SegmentIndex, parseDocName, segmentsMap } from '../../shared/roomDoc/segments.ts';
import { type ReplyFact, repliesIn, summarize } from '../../shared/roomDoc/threadOps.ts';
import { settle } from '../segments/loadedDocs.ts';

/** What one loaded document holds of threads: every reply in it, and which changed since the last commit. */
interface HeldReplies {
  /** Reply id -> its root and what a summary needs of it, as of the last commit. */
  readonly replies: Map<string, { readonly rootId: string; readonly fact: ReplyFact }>;
  /** Root id -> how many of its replies (deleted ones too) this document holds. */
  readonly perRoot: Map<string, number>;
  /** Message ids written since the last commit (any origin but storage). */
  readonly touched: Set<string>;
}

/** A change to one thread from one document's commit. */
interface ThreadDelta {
  count: number;
  readonly added: ReplyFact[];
}

/**
 * Derives the head's `threads` map (docs/protocol.md, "Conversations"): the server is its only
 * writer. Before each group commit (CommitQueue.prepareCommit) it compares what each written
 * document holds of replies with what it held at the last commit and applies the difference to
 * the roots' summaries in the head, so the summary and the replies it counts are stored in one
 * SQLite transaction: a crash never leaves them out of step.
 *
 * Replies are counted where they are held. A move (re-homing a late write, converting a room into
 * segments) takes a reply out of one document and into another in one turn, so both differences
 * land in the same commit and cancel out: a moved reply is never counted twice. `lastReplyAt`
 * and `participants` only grow (a deleted reply still took part); `segments` lists the segments
 * holding replies of the thread, exactly, since each segment's own part is known when it commits.
 *
 * Rebuilding: a room not segmented holds all its replies, so its summaries are recomputed when it
 * loads and rewritten where they differ (a room from before threads, or any drift). A segmented
 * room's are not: that would load every segment; its summaries come from the rebuilt ones of the
 * room it was converted from, kept in step by the differences above.
 */
export class ThreadSummaries {
  readonly #registry: RoomRegistry;
  readonly #logger: Logger;
  readonly #held = new WeakMap<Room, HeldReplies>();
  /** Room id -> its loaded documents (head and segments), by document name. */
  readonly #docs = new Map<string, Map<string, Room>>();

  constructor(deps: { registry: RoomRegistry; logger: Logger }) {
    this.#registry = deps.registry;
    this.#logger = deps.logger;
  }

  /** A document loaded: note the replies it holds and watch what is written to it; a room not segmented is checked. */
  roomLoaded(room: Room): void {
    const ref = parseDocName(room.roomId);
    if (!ref) return;
    const held: HeldReplies = { replies: new Map(), perRoot: new Map(), touched: new Set() };
    const index = roomIndex(room.doc);
    for (const rootId of index.threadRoots()) {
      for (const fact of repliesIn(room.doc, rootId)) held.replies.set(fact.id, { rootId, fact });
      held.perRoot.set(rootId, index.replies(rootId).length);
    }
    this.#held.set(room, held);
    const docs = this.#docs.get(ref.roomId) ?? new Map<string, Room>();
    docs.set(room.roomId, room);
    this.#docs.set(ref.roomId, docs);
    const messages = room.doc.share.get(ROOT.messages);
    const deletions = room.doc.share.get(ROOT.deletions);
    room.doc.on('afterTransaction', (tr: Y.Transaction) => {
      if (tr.origin === STORAGE_ORIGIN) return;
      for (const [type, keys] of tr.changed) {
        if (type !== messages && type !== deletions) continue;
        for (const key of keys) if (key !== null) held.touched.add(key);
      }
    });
    if (ref.segment === null && !SegmentIndex.of(room.doc).segmented && segmentsMap(room.doc).size === 0) this.#rebuild(room);
  }

  /** A document unloaded: forget it. */
  roomUnloaded(docName: string): void {
    const ref = parseDocName(docName);
    const docs = ref ? this.#docs.get(ref.roomId) : undefined;
    docs?.delete(docName);
    if (ref && docs?.size === 0) this.#docs.delete(ref.roomId);
  }

  /**
   * Before a commit: the summaries of the threads whose replies the room's documents changed. All
   * of the room's written documents at once, in one head transaction: a move takes a reply out
   * of one and into another, and readers must never see it counted in both.
   */
  readonly beforeCommit = (room: Room): void => {
    const ref = parseDocName(room.roomId);
    if (!ref) return;
    const docs = [...(this.#docs.get(ref.roomId)?.values() ?? [])];
    if (!docs.some((doc) => (this.#held.get(doc)?.touched.size ?? 0) > 0)) return;
    let head: Room | null;
    try {
      head = ref.segment === null ? room : this.#headOf(ref.roomId);
    } catch (err) {
      this.#logger.error({ err, room: room.roomId }, 'threads: the head failed to load');
      return;
    }
    // Left for a later commit: what each document holds is compared with what it held at the last one.
    if (!head) return;
    const changes: Array<{ n: number | null; held: HeldReplies; deltas: Map<string, ThreadDelta> }> = [];
    for (const doc of docs) {
      const held = this.#held.get(doc);
      if (!held || held.touched.size === 0 || doc.closed) continue;
      const deltas = this.#collect(doc, held);
      if (deltas.size > 0) changes.push({ n: parseDocName(doc.roomId)?.segment ?? null, held, deltas });
    }
    if (changes.length === 0) return;
    try {
      const threads = headMaps(head.doc).threads;
      const roots = new Set(changes.flatMap((c) => [...c.deltas.keys()]));
      head.doc.transact(() => {
        for (const rootId of roots) {
          let next = parseThreadSummary(threads.get(rootId));
          for (const { n, held, deltas } of changes) {
            const delta = deltas.get(rootId);
            if (delta) next = applyDelta(next, delta, n, held.perRoot.get(rootId) ?? 0);
          }
          if (next === null) {
            if (threads.has(rootId)) threads.delete(rootId);
          } else if (!sameSummary(next, threads.get(rootId))) threads.set(rootId, next);
        }
      }, SERVER_ORIGIN);
    } catch (err) {
      this.#logger.error({ err, room: room.roomId }, 'threads: summary update failed');
    }
  };

  /**
   * The loaded head of a room whose segment commits. A loaded segment holds its head (Segmenter),
   * so it is missing only when it failed meanwhile: loaded again at once with the synchronous
   * store; with an asynchronous one, loaded for a later commit, which then carries these changes
   * too (nothing is collected without a head to write to).
   */
  #headOf(roomId: string): Room | null {
    const loaded = this.#registry.get(roomId);
    if (loaded) return loaded;
    if (this.#registry.loadsAtOnce) return this.#registry.open(roomId);
    this.#logger.warn({ room: roomId }, 'threads: head not loaded at a segment commit; summaries follow with a later commit');
    settle(() => this.#registry.acquireReady(roomId, {}), ({ release }) => release(), (err: unknown) => this.#logger.error({ err, room: roomId }, 'threads: the head failed to load'));
    return null;
  }

  /** What changed in this document's replies since the last commit, per thread; `held` is brought up to date. */
  #collect(room: Room, held: HeldReplies): Map<string, ThreadDelta> {
    const index = roomIndex(room.doc);
    const deltas = new Map<string, ThreadDelta>();
    const deltaOf = (rootId: string): ThreadDelta => {
      let delta = deltas.get(rootId);
      if (!delta) deltas.set(rootId, (delta = { count: 0, added: [] }));
      return delta;
    };
    for (const id of held.touched) {
      const before = held.replies.get(id);
      const value = index.message(id);
      const after = value?.parentId === undefined ? undefined : { rootId: value.parentId, fact: { id, senderId: value.senderId, createdAt: value.createdAt, deleted: index.deletion(id) !== undefined } };
      if (before && after && before.rootId === after.rootId && before.fact.deleted === after.fact.deleted) continue;
      if (before) {
        const delta = deltaOf(before.rootId);
        if (!before.fact.deleted) delta.count--;
        held.perRoot.set(before.rootId, (held.perRoot.get(before.rootId) ?? 1) - 1);
        held.replies.delete(id);
      }
      if (after) {
        const delta = deltaOf(after.rootId);
        if (!after.fact.deleted) delta.count++;
        delta.added.push(after.fact);
        held.perRoot.set(after.rootId, (held.perRoot.get(after.rootId) ?? 0) + 1);
        held.replies.set(id, after);
      }
    }
    held.touched.clear();
    for (const [rootId, n] of held.perRoot) if (n <= 0) held.perRoot.delete(rootId);
    return deltas;
  }

  /** Recomputes every summary of a room held in one document and rewrites those that differ. */
  #rebuild(room: Room): void {
    const held = this.#held.get(room);
    if (!held) return;
    const threads = headMaps(room.doc).threads;
    const wanted = new Map<string, ThreadSummary>();
    for (const rootId of held.perRoot.keys()) wanted.set(rootId, summarize(repliesIn(room.doc, rootId), []));
    const stale = [...threads.keys()].filter((rootId) => !wanted.has(rootId));
    const changed = [...wanted].filter(([rootId, summary]) => !sameSummary(summary, threads.get(rootId)));
    if (stale.length === 0 && changed.length === 0) return;
    this.#logger.info({ room: room.roomId, rewritten: changed.length, removed: stale.length }, 'threads: summaries rebuilt');
    room.doc.transact(() => {
      for (const rootId of stale) threads.delete(rootId);
      for (const [rootId, summary] of changed) threads.set(rootId, summary);
    }, SERVER_ORIGIN);
  }
}

function sameSummary(summary: ThreadSummary, stored: unknown): boolean {
  const parsed = parseThreadSummary(stored);
  return parsed !== null && jsonEqual(summary, parsed);
}

/**
 * The summary after one document's change: the count moves by the difference, the newest reply
 * and the participants take in the replies it added (a reply newer than the summary's newest
 * puts its sender first), and segment `n` is listed while it holds replies of the thread.
 */
export function applyDelta(current: ThreadSummary | null, delta: ThreadDelta, n: number | null, heldHere: number): ThreadSummary | null {
  const base: ThreadSummary = current ?? { replyCount: 0, lastReplyAt: null, participants: [], segments: [] };
  let lastReplyAt = base.lastReplyAt;
  const participants = [...base.participants];
  for (const reply of [...delta.added].sort((a, b) => a.createdAt - b.createdAt)) {
    if (reply.senderId === null) continue;
    const at = participants.indexOf(reply.senderId);
    if (lastReplyAt === null || reply.createdAt >= lastReplyAt) {
      if (at >= 0) participants.splice(at, 1);
      participants.unshift(reply.senderId);
    } else if (at < 0) participants.push(reply.senderId);
    lastReplyAt = Math.max(lastReplyAt ?? 0, reply.createdAt);
  }
  const segments = n === null ? base.segments : heldHere > 0 ? [...new Set([...base.segments, n])].sort((a, b) => a - b) : base.segments.filter((s) => s !== n);
  const next: ThreadSummary = {
    replyCount: Math.max(0, base.replyCount + delta.count),
    lastReplyAt,
    participants: participants.slice(0, MAX_THREAD_PARTICIPANTS),
    segments,
  };
  return next.replyCount === 0 && next.lastReplyAt === null && next.segments.length === 0 ? null : next;
}
