// Over 350 lines for a reason: paging back, paging forward and the recent page standing in for
// segments still syncing are one algorithm over the same state; splitting it would spread it.
import type * as Y from 'yjs';
import type { MessageView } from '../../shared/roomDoc/messageView.ts';
import { type MessagePage, getMessage, lastMessage, listMessages, messageCount, unreadAfter, unreadCount } from '../../shared/roomDoc/queries.ts';
import { readPosition } from '../../shared/roomDoc/readOps.ts';
import { roomIndex } from '../../shared/roomDoc/RoomIndex.ts';
import { ClientError } from '../errors/ClientError.ts';
import { RECENT_PAGE_SIZE } from '../../shared/protocol/recentPage.ts';
import { SEGMENT_MAX_MESSAGES } from '../../shared/roomDoc/segments.ts';
import type { RoomConnection } from '../sync/RoomConnection.ts';
import type { MessageState, RoomReplica } from './RoomReplica.ts';
import { RoomSegments, type OpenSegment, type SegmentOpener } from './RoomSegments.ts';
import { holdsOrOffline, offlineOrStopped, syncedOrOffline } from './segmentReadiness.ts';
import type { RecentPage } from './RecentPage.ts';

/**
 * Where a room's messages are on this device, for ChatRoom's reads and writes: the room's one
 * document, or, once the room is segmented (shared/roomDoc/segments.ts), its segments open here
 * (RoomSegments), with the head (the room's own document) holding read positions. Pages run
 * across segments, newest first; a page that reaches a segment not open yet ends there (with
 * hasMore) and opens it, and `onChange` follows once it can be read. Until then, what the room's
 * recent page (RecentPage) holds of that segment stands in for it.
 */
export class RoomDocuments {
  readonly #head: RoomReplica;
  readonly #headConnection: RoomConnection;
  readonly #segments: RoomSegments;
  readonly #recent: RecentPage;
  readonly #onError: (error: ClientError) => void;
  readonly #onChange: () => void;
  readonly #offSynced: () => void;

  constructor(deps: {
    head: RoomReplica;
    headConnection: RoomConnection;
    recent: RecentPage;
    opener: SegmentOpener;
    onChange: () => void;
    onStates: () => void;
    onError: (error: ClientError) => void;
  }) {
    this.#head = deps.head;
    this.#headConnection = deps.headConnection;
    this.#recent = deps.recent;
    this.#onChange = deps.onChange;
    this.#onError = deps.onError;
    this.#segments = new RoomSegments(deps);
    this.#offSynced = deps.headConnection.on('synced', () => this.#pictureBeforeConversion());
  }

  get segmented(): boolean {
    return this.#segments.segmented;
  }

  /**
   * For threads and quotes (RoomThreads): where a message id belongs (null: not segmented);
   * segment n's document, opening it when not open here (onChange follows); and the replicas
   * holding messages on this device (the room's document, or its open segments).
   */
  homeOf(id: string): number | null {
    return this.segmented ? this.#segments.index.homeOf(id) : null;
  }
  segmentDoc(n: number): Y.Doc | null {
    return this.#readable(n);
  }
  held(): RoomReplica[] {
    return this.segmented ? this.#segments.ready().map((s) => s.replica) : [this.#head];
  }

  /** The newest `limit` messages before `beforeId` (or overall), oldest first. */
  pageBefore(beforeId: string | undefined, limit: number): MessagePage {
    const cursor = beforeId === undefined ? {} : { beforeId };
    if (!this.segmented) {
      const page = listMessages(this.#head.doc, { ...cursor, limit });
      // The server sends a recent page for segmented rooms only, before the head: until the head
      // (new on this device) syncs, the picture is the newest page.
      if (page.messages.length === 0 && beforeId === undefined) return this.#recent.newest(limit);
      if (beforeId === undefined) this.#pictureBeforeConversion(page);
      return page;
    }
    const index = this.#segments.index;
    const messages: MessageView[] = [];
    let pictured = false;
    for (const n of index.newestFirst()) {
      if (!index.reachesBefore(n, beforeId)) continue;
      const sealed = index.sealedAt(n);
      if (messages.length >= limit) return this.#read(beforeId, newest(inIdOrder(messages, true), limit), pictured);
      const doc = this.#readable(n);
      // A segment still syncing may lack any of its messages, the newest too: a page read from it
      // could skip some, and the next page (before its first) would never show them. The page
      // ends with it; its 'changed' brings the reader back once it is whole. Meanwhile the recent
      // page shows what it holds of it, and of the segments before it as far as it goes; in the
      // open segment, with what it holds already newer than the picture's oldest message (a
      // message sent from here shows; an older one could leave a gap before it).
      if (!doc || this.#pictureStandsIn(n, doc, sealed?.count ?? null, beforeId)) {
        const held = doc && !sealed ? this.#recent.newerThanOldest(listMessages(doc, { ...cursor, limit: limit - messages.length }).messages) : [];
        const fromPicture = this.#recent.within(index, n, beforeId, limit - messages.length);
        messages.unshift(...fromPicture, ...held);
        pictured = true;
        // A picture holding nothing of a sealed segment is from before it was sealed: older
        // messages from it are not the ones before these.
        if ((fromPicture.length > 0 || !sealed) && this.#recent.reachesBelow(index, n)) continue;
        return newest(inIdOrder(messages, true), limit);
      }
      const page = listMessages(doc, { ...cursor, limit: limit - messages.length });
      messages.unshift(...page.messages);
      if (sealed) this.#prefetchBefore(n, doc, page.messages[0]?.id ?? beforeId);
      // Offline, a sealed segment holding fewer messages than it was sealed with may hold older ones yet.
      if (page.hasMore || (sealed && messageCount(doc) < sealed.count)) return this.#read(beforeId, inIdOrder(messages, true), pictured);
    }
    return this.#read(beforeId, inIdOrder(messages, false), pictured);
  }

  /**
   * A room being converted into segments (or big enough to be): once it is, the head holds none of
   * its messages and the segments may not be on the device yet. The newest page, as a picture
   * stored at once, keeps them; only once the head synced (its answer comes in pieces, oldest first).
   */
  #pictureBeforeConversion(page: MessagePage = listMessages(this.#head.doc, { limit: RECENT_PAGE_SIZE })): void {
    if (this.segmented || !this.#headConnection.synced) return;
    const converting = this.#segments.index.sealed.length > 0 || messageCount(this.#head.doc) >= SEGMENT_MAX_MESSAGES;
    if (converting) this.#recent.read(page.messages, { now: true });
  }

  /**
   * A reader paging back through sealed segment n, within PREFETCH_WITHIN messages of its oldest:
   * the segment before it opens now, so that scrolling on finds it synced rather than waiting at
   * the top of the list for thousands of messages to arrive.
   */
  #prefetchBefore(n: number, doc: Y.Doc, oldestShown: string | undefined): void {
    if (n === 0 || this.#segments.opened(n - 1) !== null) return;
    const left = oldestShown === undefined ? messageCount(doc) : roomIndex(doc).lowerBound(oldestShown);
    if (left < PREFETCH_WITHIN) this.#readable(n - 1);
  }

  /** A newest page read from the segments alone (a full one, or the whole room) is the room's recent page from now on. */
  #read(beforeId: string | undefined, page: MessagePage, pictured: boolean): MessagePage {
    if (beforeId === undefined && !pictured && (page.messages.length >= RECENT_PAGE_SIZE || !page.hasMore)) this.#recent.read(page.messages);
    return page;
  }

  /** The server's recent page (the head's connection got it): shown where the segments cannot be read yet. */
  recentReceived(messages: readonly MessageView[]): void {
    this.#recent.received(messages);
    this.#onChange();
  }

  /** A message the recent page shows (its segment not readable here yet), or null. */
  recentView(id: string): MessageView | null {
    return this.#recent.get(id);
  }

  /**
   * The oldest `limit` messages after `afterId`, and whether newer ones follow. A segment on the
   * way that is not open here, or still syncing, ends the page (`hasMore`) and opens: reading on
   * past it would skip its messages, and the next page (after the last shown) would never show
   * them. Its 'changed' brings the reader back.
   */
  pageAfter(afterId: string, limit: number): MessagePage {
    if (!this.segmented) return pageAfterIn([this.#head.doc], afterId, limit);
    const index = this.#segments.index;
    const order = index.newestFirst().reverse();
    const docs: Y.Doc[] = [];
    for (const n of order) {
      const sealed = index.sealedAt(n);
      // A sealed segment holds ids up to its `last`: none after the cursor.
      if (sealed?.last != null && sealed.last <= afterId) continue;
      const doc = this.#readable(n);
      if (!doc || this.#syncing(n, sealed?.count ?? null)) {
        const page = pageAfterIn(docs, afterId, limit);
        return { messages: page.messages, hasMore: true };
      }
      docs.push(doc);
      const page = pageAfterIn(docs, afterId, limit);
      if (page.messages.length >= limit) return { messages: page.messages, hasMore: page.hasMore || n !== order.at(-1) };
    }
    return pageAfterIn(docs, afterId, limit);
  }

  /**
   * Whether the recent page shows open segment n's part of a page instead of the segment: while
   * it syncs, or, offline, a sealed one holding fewer messages than it was sealed with (a device
   * that went offline before it arrived) when the picture has some of it.
   */
  #pictureStandsIn(n: number, doc: Y.Doc, sealedCount: number | null, beforeId: string | undefined): boolean {
    if (this.#syncing(n, sealedCount)) return true;
    return sealedCount !== null && messageCount(doc) < sealedCount && this.#recent.within(this.#segments.index, n, beforeId, 1).length > 0;
  }

  /**
   * Whether segment n, open here, may still lack messages its connection can bring: a sealed one
   * while it holds fewer than the `count` it was sealed with, the open one until it synced.
   */
  #syncing(n: number, count: number | null): boolean {
    const segment = this.#segments.opened(n);
    if (segment === null || offlineOrStopped(segment.connection)) return false;
    return count === null ? !segment.connection.synced : messageCount(segment.replica.doc) < count;
  }

  /** Segment n's document if open here; else null, and it opens (an error reaches onError). */
  #readable(n: number): Y.Doc | null {
    const opening = this.#segments.ensure(n);
    const doc = this.#segments.opened(n)?.replica.doc ?? null;
    if (!doc) opening.catch((e: unknown) => this.#onError(e instanceof ClientError ? e : new ClientError('storage_failed', String(e))));
    return doc;
  }

  /** Opens the segment holding the messages just before `beforeId` (see ChatRoom.loadHistory). */
  async loadHistory(beforeId: string | undefined): Promise<void> {
    const index = this.#segments.index;
    if (!index.segmented) return;
    for (const n of index.newestFirst()) {
      if (!index.reachesBefore(n, beforeId)) continue;
      const sealed = index.sealedAt(n);
      const segment = await this.#segments.ensure(n);
      await syncedOrOffline(segment.connection);
      // A big segment's reply comes as a step 2 and more updates: a sealed one is whole once it
      // holds the messages it was sealed with.
      if (sealed) await holdsOrOffline(segment, sealed.count);
      const page = listMessages(segment.replica.doc, { ...(beforeId === undefined ? {} : { beforeId }), limit: 1 });
      // This segment holds messages before the cursor: readable now. Else the next older one.
      if (page.messages.length > 0) return;
    }
  }

  /**
   * Where a message is on this device: its home segment, else any open one (a message written
   * before this device heard of a seal), else null; the room's document while not segmented.
   */
  find(id: string): { view: MessageView; replica: RoomReplica } | null {
    const replica = this.#holder(id);
    const view = replica && getMessage(replica.doc, id);
    return view ? { view, replica } : null;
  }

  /** The replica holding message `id` (as find), without reading the message: asked for every message of every page rendered. */
  #holder(id: string): RoomReplica | null {
    if (!this.segmented) return roomIndex(this.#head.doc).message(id) ? this.#head : null;
    const home = this.#segments.index.homeOf(id);
    const homeReplica = home === null ? null : this.#segments.replica(home);
    if (homeReplica && roomIndex(homeReplica.doc).message(id)) return homeReplica;
    return this.#segments.ready().find((s) => roomIndex(s.replica.doc).message(id))?.replica ?? null;
  }

  /**
   * The replica a change about message `id` goes to (null: a new message): at once when it is open
   * here (so a write is readable before its promise settles), else once its segment opens.
   */
  target(id: string | null): RoomReplica | Promise<RoomReplica> {
    if (!this.segmented) return this.#head;
    const holding = id === null ? null : this.#holder(id);
    if (holding) return holding;
    const index = this.#segments.index;
    const n = id === null ? index.open?.n : (index.homeOf(id) ?? index.open?.n);
    if (n === undefined || n === null) return this.#head;
    return this.#segments.replica(n) ?? this.#segments.ensure(n).then((segment) => segment.replica);
  }

  /** The segment a message id belongs in, opening (null while not segmented), and the count it was sealed with (null: the open one). */
  home(id: string): { readonly segment: Promise<OpenSegment>; readonly sealedCount: number | null } | null {
    const n = this.segmented ? this.#segments.index.homeOf(id) : null;
    return n === null ? null : { segment: this.#segments.ensure(n), sealedCount: this.#segments.index.sealedAt(n)?.count ?? null };
  }

  lastView(): MessageView | null {
    const docs = this.segmented ? this.#segments.ready().map((s) => s.replica.doc) : [this.#head.doc];
    for (const doc of docs) {
      const view = lastMessage(doc);
      if (view) return view;
    }
    return null;
  }

  messageState(id: string): MessageState | null {
    const holding = this.#holder(id);
    if (holding) return holding.messageState(id);
    // Moved by the server into a segment not open here: the server has it.
    return this.segmented && this.#head.movedOut(id) ? { state: 'sent' } : this.#head.messageState(id);
  }

  /**
   * Messages after the user's read position that others sent. Segmented: exact over the segments
   * open here, plus the sealed counts of segments after the position that are not open (those
   * include the user's own messages: an estimate until they are read).
   */
  unreadCount(userId: string): number {
    if (!this.segmented) return unreadCount(this.#head.doc, userId);
    const position = readPosition(this.#head.doc, userId);
    const index = this.#segments.index;
    const home = position === null ? -1 : (index.homeOf(position) ?? -1);
    let count = 0;
    for (const segment of this.#segments.ready()) if (segment.n >= home) count += unreadAfter(segment.replica.doc, position, userId);
    for (const segment of this.#segments.unopened()) if (segment.n > home) count += segment.count;
    return count;
  }

  refusal(): { readonly code: string; readonly reason: string } | null {
    return this.#head.refusal ?? this.#segments.ready().find((s) => s.replica.refusal !== null)?.replica.refusal ?? null;
  }

  resendSegments(): void {
    for (const segment of this.#segments.ready()) {
      segment.replica.resend();
      segment.connection.holdWrites(false);
    }
  }

  close(): Promise<void> {
    this.#offSynced();
    this.#recent.close();
    return this.#segments.close();
  }
}

/** How close to a sealed segment's oldest message a page may come before the segment before it opens (half a segment). */
const PREFETCH_WITHIN = SEGMENT_MAX_MESSAGES / 2;

/** The newest `limit` of a page (a recent page and a segment's own messages together may hold more). */
function newest(page: MessagePage, limit: number): MessagePage {
  return page.messages.length > limit ? { messages: page.messages.slice(-limit), hasMore: true } : page;
}

/**
 * A page in display (id) order with each message once: until the server's move of a late write
 * reaches this device, the message may sit in the segment it was written to, out of that
 * segment's range, or in both that one and its home for a moment.
 */
function inIdOrder(messages: MessageView[], hasMore: boolean): MessagePage {
  const byId = new Map(messages.map((m) => [m.id, m]));
  return { messages: [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)), hasMore };
}

/** The oldest `limit` messages after `afterId` in `docs` (consecutive ranges, oldest first). */
function pageAfterIn(docs: readonly Y.Doc[], afterId: string, limit: number): MessagePage {
  const messages: MessageView[] = [];
  for (const [i, doc] of docs.entries()) {
    const index = roomIndex(doc);
    const start = index.upperBound(afterId);
    const end = Math.min(index.size, start + limit - messages.length);
    messages.push(...index.idsBetween(start, end).flatMap((id) => getMessage(doc, id) ?? []));
    if (end < index.size) return { messages, hasMore: true };
    if (messages.length >= limit) return { messages, hasMore: i < docs.length - 1 };
  }
  return { messages, hasMore: false };
}
