import type { Logger } from '../log.ts';
import type { DirectoryApi } from '../storage/DirectoryApi.ts';
import { activityMs } from '../storage/RoomRepo.ts';
import type { ChatMember } from '../../shared/models/chatMember.ts';
import type { ChatRoom } from '../../shared/models/chatRoom.ts';
import { FEED_KEEPALIVE_MS, type FeedChanges } from '../../shared/models/userFeed.ts';
import type { UserPresence } from '../../shared/models/userPresence.ts';
import type { ParleyNotification } from '../../shared/models/notification.ts';
import { UserTurns } from './UserTurns.ts';

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
 *
 * Order. A frame's cursor tells the device it holds every entry up to that number, so a user's
 * frames must leave in the order of the numbers they carry: nothing whose cursor is n+1 before
 * the frame of entry n. With the directory asynchronous, appending an entry and pushing it are no
 * longer one synchronous step, and two changes for one user could overtake each other between
 * them. So every operation that appends for a user or reads their newest number for a cursor
 * (a change, a resume, a summary, presence, notifications) runs in that user's turn (UserTurns)
 * from the append or read to the push: operations on one user take turns in call order, and
 * those on different users run at once. Per user rather than per feed, because the numbers are
 * per user: a slow room change of a big room holds only its members' frames.
 *
 * close() refuses new operations and waits for those started (a started room change still
 * writes its entries: the change it logs was already committed).
 */
export class UserFeed {
  readonly #directory: DirectoryApi;
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #presenceOf: (userIds: readonly string[]) => Promise<UserPresence[]>;
  readonly #subscribers = new Map<string, Set<FeedSubscriber>>();
  readonly #turns = new UserTurns();
  /** Every operation not ended yet: close() waits for them. */
  readonly #inFlight = new Set<Promise<void>>();
  /** People whose presence changed since the last push (PRESENCE_COALESCE_MS). */
  readonly #presenceDue = new Set<string>();
  #presenceTimer: NodeJS.Timeout | null = null;
  /**
   * The presence push running or run last. One runs at a time, so a later push reads a later
   * state, and its frames queue behind the earlier one's: the last state wins.
   */
  #presencePush: Promise<void> = Promise.resolve();
  #closed = false;
  /** A feed channel that sent nothing for this long sends a keepalive (FeedChannel). */
  readonly keepaliveMs: number;

  /**
   * `presenceOf` answers UserPresence from the presence tracker (server/presence); `keepaliveMs`
   * defaults to FEED_KEEPALIVE_MS (tests shorten it).
   */
  constructor(opts: {
    directory: DirectoryApi;
    logger: Logger;
    presenceOf?: (userIds: readonly string[]) => Promise<UserPresence[]>;
    now?: () => number;
    keepaliveMs?: number;
  }) {
    this.keepaliveMs = opts.keepaliveMs ?? FEED_KEEPALIVE_MS;
    if (!(this.keepaliveMs >= 1 && this.keepaliveMs <= 2 ** 31 - 1)) throw new RangeError(`the feed keepalive must be 1 ms to 2^31-1 ms, not ${this.keepaliveMs}`);
    this.#directory = opts.directory;
    this.#logger = opts.logger;
    this.#presenceOf = opts.presenceOf ?? (() => Promise.resolve([]));
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

  /**
   * Answers a device's resume: what changed since its cursor, or its whole list (reset). In the
   * user's turn, after the frames of every change before it. Never rejects: a failure is logged
   * and the device, answered nothing, opens its feed again.
   */
  resume(subscriber: FeedSubscriber, cursor: string | null): Promise<void> {
    const userId = subscriber.userId;
    return this.#operation('answering a resume', { user: userId }, () =>
      this.#turns.run([userId], async () => {
        const directory = this.#directory;
        const from = decodeCursor(cursor);
        const logged = from ? await directory.feed.changesSince(userId, from.seq) : null;
        const last = logged?.last ?? (await directory.feed.lastSeq(userId));
        const mine = await directory.rooms.listForUser(userId);
        // Presence is not logged: who is online now, and who was last seen since the cursor.
        const presence = (await this.#presenceOf(await directory.members.coMembers(userId))).filter(
          (p) => p.is_online || (from !== null && p.last_seen_at !== null && Date.parse(p.last_seen_at) > from.ms),
        );
        if (!from || !logged) {
          this.#sendTo(subscriber, { type: 'changes', cursor: this.#cursor(last), reset: true, rooms: mine, removed: [], members: [], presence });
          return;
        }
        const changed = new Map(logged.rooms);
        // A new room is logged; a new message or a read elsewhere is not: rooms whose newest message,
        // or the user's read position in them, moved after the cursor's time.
        const since = from.ms - CURSOR_TIME_MARGIN_MS;
        for (const room of mine) if (room.last_message && activityMs(room) > since && !changed.has(room.id)) changed.set(room.id, { members: false });
        for (const roomId of await directory.members.roomsTouchedSince(userId, from.ms)) if (!changed.has(roomId)) changed.set(roomId, { members: false });
        const changes = await this.#changesFor(userId, changed, last);
        this.#sendTo(subscriber, { ...changes, presence });
      }),
    );
  }

  /**
   * A person's presence changed: pushed to the open feeds of everyone who shares a room with them.
   * Changes within PRESENCE_COALESCE_MS go out together, one frame per watcher: after a restart,
   * N people reconnecting cost each watcher one frame, not N (the rooms' presence does the same).
   */
  presenceChanged(userId: string): void {
    if (this.#closed || this.#subscribers.size === 0) return;
    this.#presenceDue.add(userId);
    if (this.#presenceTimer) return;
    this.#presenceTimer = setTimeout(() => {
      this.#presenceTimer = null;
      const push = this.#presencePush.then(() => this.#pushPresence());
      this.#presencePush = push;
      void this.#operation('pushing presence', {}, () => push);
    }, PRESENCE_COALESCE_MS);
    this.#presenceTimer.unref();
  }

  async #pushPresence(): Promise<void> {
    const due = [...this.#presenceDue];
    this.#presenceDue.clear();
    if (due.length === 0) return;
    const byWatcher = new Map<string, UserPresence[]>();
    // The state as it is now, read after the push before this one ended.
    for (const presence of await this.#presenceOf(due)) {
      for (const watcher of await this.#directory.members.coMembers(presence.user_id)) {
        if (!this.#subscribers.has(watcher)) continue;
        const list = byWatcher.get(watcher) ?? [];
        list.push(presence);
        byWatcher.set(watcher, list);
      }
    }
    await Promise.all(
      [...byWatcher].map(([watcher, presence]) =>
        this.#turns.run([watcher], async () => {
          const cursor = this.#cursor(await this.#directory.feed.lastSeq(watcher));
          this.#push(watcher, { type: 'changes', cursor, reset: false, rooms: [], removed: [], members: [], presence });
        }),
      ),
    );
  }

  /**
   * Stops: the pending presence push is dropped, new operations are refused, and the ones started
   * are waited for (shutdown: the database closes next).
   */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#presenceTimer) clearTimeout(this.#presenceTimer);
    this.#presenceTimer = null;
    this.#presenceDue.clear();
    while (this.#inFlight.size > 0) await Promise.all(this.#inFlight);
  }

  /**
   * A room changed for its members (created, renamed, activated or deactivated), or the membership
   * of `membersChanged` did (added, removed, role), who also hear of it: logged, then pushed. The
   * push names only the members that changed (`complete: false`), so one join in a room of N
   * costs N small frames, not N member lists; a device catching up gets the whole list. Resolves
   * once pushed; never rejects (a failure is logged).
   */
  roomChanged(roomId: string, opts: { membersChanged?: readonly string[] } = {}): Promise<void> {
    const changedIds = opts.membersChanged ?? [];
    const members = opts.membersChanged !== undefined;
    return this.#operation('logging a room change', { room: roomId }, async () => {
      const directory = this.#directory;
      const users = new Set([...(await directory.members.listActiveUserIds(roomId)), ...changedIds]);
      // From the append to the last push, in the turn of every user it appends for.
      await this.#turns.run(users, async () => {
        const seqs = await directory.feed.append(roomId, users, members, this.#now());
        if (![...seqs.keys()].some((userId) => this.#subscribers.has(userId))) return;
        const room = await directory.rooms.getSummary(roomId);
        const changed: ChatMember[] = [];
        for (const userId of changedIds) {
          const member = await directory.members.getWithUser(roomId, userId);
          if (member) changed.push(member);
        }
        for (const [userId, seq] of seqs) {
          if (!this.#subscribers.has(userId)) continue;
          await this.#build(userId, async () => {
            const membership = await directory.members.get(roomId, userId);
            const frame: FeedChanges = { type: 'changes', cursor: this.#cursor(seq), reset: false, rooms: [], removed: [], members: [], presence: [] };
            if (!room) frame.removed.push({ room_id: roomId, reason: 'not_found' });
            else if (!membership?.is_active) frame.removed.push({ room_id: roomId, reason: 'removed' });
            else {
              frame.rooms.push({ ...room, ...(await directory.members.personal(roomId, userId)) });
              if (changed.length > 0) frame.members.push({ room_id: roomId, members: changed, complete: false });
            }
            return frame;
          });
        }
      });
    });
  }

  /**
   * Rooms' summaries changed for these users (RoomSummaries wrote a newest message or unread
   * counts): pushed to their connected devices, not logged (caught up by time and by the list).
   */
  summariesChanged(changed: ReadonlyMap<string, ReadonlySet<string>>): void {
    for (const [roomId, users] of changed) {
      const watching = [...users].filter((userId) => this.#subscribers.has(userId));
      if (watching.length === 0) continue;
      void this.#operation('pushing a room summary', { room: roomId }, () =>
        this.#turns.run(watching, async () => {
          // Written by the summary writer: read as stored (no freshening of every other room).
          const room = await this.#directory.rooms.peekSummary(roomId);
          if (!room) return;
          for (const userId of watching) {
            await this.#build(userId, async () => {
              const mine = { ...room, ...(await this.#directory.members.personal(roomId, userId, { fresh: false })) };
              return { type: 'changes', cursor: this.#cursor(await this.#directory.feed.lastSeq(userId)), reset: false, rooms: [mine], removed: [], members: [], presence: [] };
            });
          }
        }),
      );
    }
  }

  /**
   * The user's own setting of a room changed (its mute): logged for that user only and pushed to
   * their devices, so every one of them follows, and one away catches up on resume. Resolves once
   * pushed; never rejects.
   */
  memberSettingsChanged(roomId: string, userId: string): Promise<void> {
    return this.#operation('logging a setting change', { room: roomId, user: userId }, () =>
      this.#turns.run([userId], async () => {
        const directory = this.#directory;
        const seq = (await directory.feed.append(roomId, [userId], false, this.#now())).get(userId) ?? (await directory.feed.lastSeq(userId));
        const room = await directory.rooms.getSummary(roomId);
        if (!room || !this.#subscribers.has(userId)) return;
        const mine = { ...room, ...(await directory.members.personal(roomId, userId)) };
        this.#push(userId, { type: 'changes', cursor: this.#cursor(seq), reset: false, rooms: [mine], removed: [], members: [], presence: [] });
      }),
    );
  }

  /**
   * Pushes notifications (docs/notifications.md) to the user's connected devices, never logged.
   * False when the user has no feed open: nobody heard them.
   */
  notify(userId: string, notifications: readonly ParleyNotification[]): boolean {
    if (this.#closed || !this.#subscribers.has(userId) || notifications.length === 0) return false;
    const list = [...notifications];
    void this.#operation('pushing notifications', { user: userId }, () =>
      this.#turns.run([userId], async () => {
        const cursor = this.#cursor(await this.#directory.feed.lastSeq(userId));
        this.#push(userId, { type: 'changes', cursor, reset: false, rooms: [], removed: [], members: [], presence: [], notifications: list });
      }),
    );
    return true;
  }

  /** Runs one operation unless closed, tracked for close(); its failure is logged, never thrown. */
  #operation(what: string, context: Record<string, string>, run: () => Promise<void>): Promise<void> {
    if (this.#closed) return Promise.resolve();
    const done = run().catch((err: unknown) => this.#logger.error({ err, ...context }, `user feed: ${what} failed`));
    this.#inFlight.add(done);
    void done.then(() => this.#inFlight.delete(done));
    return done;
  }

  /** Builds one user's frame and pushes it; a failure to build skips that user only (logged). */
  async #build(userId: string, make: () => Promise<FeedChanges>): Promise<void> {
    let changes: FeedChanges;
    try {
      changes = await make();
    } catch (err) {
      this.#logger.error({ err, user: userId }, 'user feed: building changes failed');
      return;
    }
    this.#push(userId, changes);
  }

  /** To every device of the user subscribed now. */
  #push(userId: string, changes: FeedChanges): void {
    for (const subscriber of this.#subscribers.get(userId) ?? []) subscriber.send(changes);
  }

  /** To one device, if it is still subscribed (its channel may have closed meanwhile). */
  #sendTo(subscriber: FeedSubscriber, changes: FeedChanges): void {
    if (this.#subscribers.get(subscriber.userId)?.has(subscriber)) subscriber.send(changes);
  }

  async #changesFor(userId: string, changed: ReadonlyMap<string, { readonly members: boolean }>, seq: number): Promise<FeedChanges> {
    const directory = this.#directory;
    const rooms: ChatRoom[] = [];
    const removed: FeedChanges['removed'] = [];
    const members: FeedChanges['members'] = [];
    for (const [roomId, change] of changed) {
      const room = await directory.rooms.getSummary(roomId);
      const membership = await directory.members.get(roomId, userId);
      if (!room) removed.push({ room_id: roomId, reason: 'not_found' });
      else if (!membership?.is_active) removed.push({ room_id: roomId, reason: 'removed' });
      else {
        rooms.push({ ...room, ...(await directory.members.personal(roomId, userId)) });
        if (change.members) members.push({ room_id: roomId, members: await directory.members.list(roomId), complete: true });
      }
    }
    return { type: 'changes', cursor: this.#cursor(seq), reset: false, rooms, removed, members, presence: [] };
  }

  #cursor(seq: number): string {
    return encodeCursor(seq, this.#now());
  }
}
