import type { Logger } from '../log.ts';
import type { Directory } from '../storage/Directory.ts';
import { activityMs } from '../storage/RoomRepo.ts';
import type { ChatRoom } from '../../shared/models/chatRoom.ts';
import { FEED_KEEPALIVE_MS, type FeedChanges } from '../../shared/models/userFeed.ts';
import type { UserPresence } from '../../shared/models/userPresence.ts';
import type { ParleyNotification } from '../../shared/models/notification.ts';

/** A connected device's feed channel. */
export interface FeedSubscriber {
  readonly userId: string;
  send(changes: FeedChanges): void;
}

/**
 * On resume, rooms whose newest message is dated after the cursor's time less this margin are
 * sent again. Message times are the senders' clocks, accepted up to MAX_PAST_SKEW_MS (5 minutes)
 * before they joined; the margin keeps a late-dated message from slipping between two cursors.
 * Sending a room twice is harmless. (Membership times are the server's: no margin.)
 */
const CURSOR_TIME_MARGIN_MS = 10 * 60_000;

/** Presence changes within this window reach a watcher in one frame. */
const PRESENCE_COALESCE_MS = 200;

const encodeCursor = (seq: number, ms: number): string => `${seq}.${ms}`;
function decodeCursor(cursor: string | null): { seq: number; ms: number } | null {
  const match = cursor === null ? null : /^(\d{1,15})\.(\d{1,15})$/.exec(cursor);
  return match ? { seq: Number(match[1]), ms: Number(match[2]) } : null;
}

/**
 * The user feed: what each user's devices need outside room documents, pushed live to their feed
 * channels and caught up from a cursor. Membership and room changes are logged per user
 * (FeedRepo: "room R changed for you"); a room's newest message is pushed live and caught up by
 * time (rooms with activity after the cursor's time), so a message costs no write per member.
 * What is sent is always the room as it is now, so a device offline for a week gets each room
 * that changed once, not its history.
 */
export class UserFeed {
  readonly #directory: Directory;
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #presenceOf: (userIds: readonly string[]) => UserPresence[];
  readonly #subscribers = new Map<string, Set<FeedSubscriber>>();
  /** People whose presence changed since the last push (PRESENCE_COALESCE_MS). */
  readonly #presenceDue = new Set<string>();
  #presenceTimer: NodeJS.Timeout | null = null;
  /** A feed channel that sent nothing for this long sends a keepalive (FeedChannel). */
  readonly keepaliveMs: number;

  /**
   * `presenceOf` answers UserPresence from the presence tracker (server/presence); `keepaliveMs`
   * defaults to FEED_KEEPALIVE_MS (tests shorten it).
   */
  constructor(opts: { directory: Directory; logger: Logger; presenceOf?: (userIds: readonly string[]) => UserPresence[]; now?: () => number; keepaliveMs?: number }) {
    this.keepaliveMs = opts.keepaliveMs ?? FEED_KEEPALIVE_MS;
    if (!(this.keepaliveMs >= 1 && this.keepaliveMs <= 2 ** 31 - 1)) throw new RangeError(`the feed keepalive must be 1 ms to 2^31-1 ms, not ${this.keepaliveMs}`);
    this.#directory = opts.directory;
    this.#logger = opts.logger;
    this.#presenceOf = opts.presenceOf ?? (() => []);
    this.#now = opts.now ?? Date.now;
  }

  /** Registers a device's channel; returns the unsubscribe. */
  subscribe(subscriber: FeedSubscriber): () => void {
    let set = this.#subscribers.get(subscriber.userId);
    if (!set) this.#subscribers.set(subscriber.userId, (set = new Set()));
    set.add(subscriber);
    return () => {
      set.delete(subscriber);
      if (set.size === 0 && this.#subscribers.get(subscriber.userId) === set) this.#subscribers.delete(subscriber.userId);
    };
  }

  /** Answers a device's resume: what changed since its cursor, or its whole list (reset). */
  resume(subscriber: FeedSubscriber, cursor: string | null): void {
    const userId = subscriber.userId;
    const from = decodeCursor(cursor);
    const logged = from ? this.#directory.feed.changesSince(userId, from.seq) : null;
    const last = logged?.last ?? this.#directory.feed.lastSeq(userId);
    const mine = this.#directory.rooms.listForUser(userId);
    // Presence is not logged: who is online now, and who was last seen since the cursor.
    const presence = this.#presenceOf(this.#directory.members.coMembers(userId)).filter((p) => p.is_online || (from !== null && p.last_seen_at !== null && Date.parse(p.last_seen_at) > from.ms));
    if (!from || !logged) {
      subscriber.send({ type: 'changes', cursor: this.#cursor(last), reset: true, rooms: mine, removed: [], members: [], presence });
      return;
    }
    const changed = new Map(logged.rooms);
    // A new room is logged; a new message or a read elsewhere is not: rooms whose newest message,
    // or the user's read position in them, moved after the cursor's time.
    const since = from.ms - CURSOR_TIME_MARGIN_MS;
    for (const room of mine) if (room.last_message && activityMs(room) > since && !changed.has(room.id)) changed.set(room.id, { members: false });
    for (const roomId of this.#directory.members.roomsTouchedSince(userId, from.ms)) if (!changed.has(roomId)) changed.set(roomId, { members: false });
    subscriber.send({ ...this.#changesFor(userId, changed, last), presence });
  }

  /**
   * A person's presence changed: pushed to the open feeds of everyone who shares a room with them.
   * Changes within PRESENCE_COALESCE_MS go out together, one frame per watcher: after a restart,
   * N people reconnecting cost each watcher one frame, not N (the rooms' presence does the same).
   */
  presenceChanged(userId: string): void {
    if (this.#subscribers.size === 0) return;
    this.#presenceDue.add(userId);
    if (this.#presenceTimer) return;
    this.#presenceTimer = setTimeout(() => this.#pushPresence(), PRESENCE_COALESCE_MS);
    this.#presenceTimer.unref();
  }

  #pushPresence(): void {
    this.#presenceTimer = null;
    const due = [...this.#presenceDue];
    this.#presenceDue.clear();
    const byWatcher = new Map<string, UserPresence[]>();
    for (const presence of this.#presenceOf(due)) {
      for (const watcher of this.#directory.members.coMembers(presence.user_id)) {
        if (!this.#subscribers.has(watcher)) continue;
        const list = byWatcher.get(watcher) ?? [];
        list.push(presence);
        byWatcher.set(watcher, list);
      }
    }
    for (const [watcher, presence] of byWatcher) {
      this.#push(watcher, () => ({ type: 'changes', cursor: this.#cursor(this.#directory.feed.lastSeq(watcher)), reset: false, rooms: [], removed: [], members: [], presence }));
    }
  }

  /** Stops the pending presence push (shutdown). */
  close(): void {
    if (this.#presenceTimer) clearTimeout(this.#presenceTimer);
    this.#presenceTimer = null;
    this.#presenceDue.clear();
  }

  /**
   * A room changed for its members (created, renamed, activated or deactivated), or the membership
   * of `membersChanged` did (added, removed, role), who also hear of it: logged, then pushed. The
   * push names only the members that changed (`complete: false`), so one join in a room of N
   * costs N small frames, not N member lists; a device catching up gets the whole list.
   */
  roomChanged(roomId: string, opts: { membersChanged?: readonly string[] } = {}): void {
    const changedIds = opts.membersChanged ?? [];
    const users = new Set([...this.#directory.members.listActiveUserIds(roomId), ...changedIds]);
    const seqs = this.#directory.feed.append(roomId, users, opts.membersChanged !== undefined, this.#now());
    if (![...seqs.keys()].some((userId) => this.#subscribers.has(userId))) return;
    const room = this.#directory.rooms.getSummary(roomId);
    const changed = changedIds.flatMap((userId) => this.#directory.members.getWithUser(roomId, userId) ?? []);
    for (const [userId, seq] of seqs) {
      this.#push(userId, () => {
        const membership = this.#directory.members.get(roomId, userId);
        const frame: FeedChanges = { type: 'changes', cursor: this.#cursor(seq), reset: false, rooms: [], removed: [], members: [], presence: [] };
        if (!room) frame.removed.push({ room_id: roomId, reason: 'not_found' });
        else if (!membership?.is_active) frame.removed.push({ room_id: roomId, reason: 'removed' });
        else {
          frame.rooms.push({ ...room, ...this.#directory.members.personal(roomId, userId) });
          if (changed.length > 0) frame.members.push({ room_id: roomId, members: changed, complete: false });
        }
        return frame;
      });
    }
  }

  /**
   * Rooms' summaries changed for these users (RoomSummaries wrote a newest message or unread
   * counts): pushed to their connected devices, not logged (caught up by time and by the list).
   */
  summariesChanged(changed: ReadonlyMap<string, ReadonlySet<string>>): void {
    for (const [roomId, users] of changed) {
      const watching = [...users].filter((userId) => this.#subscribers.has(userId));
      if (watching.length === 0) continue;
      // Just written by the summary writer: read as stored (no freshening of every other room).
      const room = this.#directory.rooms.peekSummary(roomId);
      if (!room) continue;
      for (const userId of watching) {
        const mine = { ...room, ...this.#directory.members.personal(roomId, userId, { fresh: false }) };
        this.#push(userId, () => ({ type: 'changes', cursor: this.#cursor(this.#directory.feed.lastSeq(userId)), reset: false, rooms: [mine], removed: [], members: [], presence: [] }));
      }
    }
  }

  /**
   * The user's own setting of a room changed (its mute): logged for that user only and pushed to
   * their devices, so every one of them follows, and one away catches up on resume.
   */
  memberSettingsChanged(roomId: string, userId: string): void {
    const seq = this.#directory.feed.append(roomId, [userId], false, this.#now()).get(userId) ?? this.#directory.feed.lastSeq(userId);
    const room = this.#directory.rooms.getSummary(roomId);
    if (!room) return;
    const mine = { ...room, ...this.#directory.members.personal(roomId, userId) };
    this.#push(userId, () => ({ type: 'changes', cursor: this.#cursor(seq), reset: false, rooms: [mine], removed: [], members: [], presence: [] }));
  }

  /**
   * Pushes notifications (docs/notifications.md) to the user's connected devices, never logged.
   * False when the user has no feed open: nobody heard them.
   */
  notify(userId: string, notifications: readonly ParleyNotification[]): boolean {
    if (!this.#subscribers.has(userId) || notifications.length === 0) return false;
    this.#push(userId, () => ({ type: 'changes', cursor: this.#cursor(this.#directory.feed.lastSeq(userId)), reset: false, rooms: [], removed: [], members: [], presence: [], notifications: [...notifications] }));
    return true;
  }

  #push(userId: string, make: () => FeedChanges): void {
    const set = this.#subscribers.get(userId);
    if (!set || set.size === 0) return;
    let changes: FeedChanges;
    try {
      changes = make();
    } catch (err) {
      this.#logger.error({ err, user: userId }, 'user feed: building changes failed');
      return;
    }
    for (const subscriber of set) subscriber.send(changes);
  }

  #changesFor(userId: string, changed: ReadonlyMap<string, { readonly members: boolean }>, seq: number): FeedChanges {
    const rooms: ChatRoom[] = [];
    const removed: FeedChanges['removed'] = [];
    const members: FeedChanges['members'] = [];
    for (const [roomId, change] of changed) {
      const room = this.#directory.rooms.getSummary(roomId);
      const membership = this.#directory.members.get(roomId, userId);
      if (!room) removed.push({ room_id: roomId, reason: 'not_found' });
      else if (!membership?.is_active) removed.push({ room_id: roomId, reason: 'removed' });
      else {
        rooms.push({ ...room, ...this.#directory.members.personal(roomId, userId) });
        if (change.members) members.push({ room_id: roomId, members: this.#directory.members.list(roomId), complete: true });
      }
    }
    return { type: 'changes', cursor: this.#cursor(seq), reset: false, rooms, removed, members, presence: [] };
  }

  #cursor(seq: number): string {
    return encodeCursor(seq, this.#now());
  }
}
