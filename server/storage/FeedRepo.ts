import { z } from 'zod';
import { RoomIdSchema } from '../../shared/ids.ts';
import type { Db } from './openDatabase.ts';
import { parseRow } from './sqlRows.ts';

/** Entries kept per user: a cursor older than the oldest kept gets the whole list again. */
export const FEED_ENTRIES_KEPT = 5_000;
/** Old entries are pruned when a user's sequence number reaches a multiple of this. */
export const FEED_PRUNE_EVERY = 500;

/** Row schemas, shared with PgFeedRepo. */
export const SeqRowSchema = z.object({ seq: z.number().int().nullable() });
export const ChangeRowSchema = z.object({ room_id: RoomIdSchema, members: z.number().int() });

/** What changed for one user since a sequence number: the rooms, and whether their members changed. */
export interface FeedChanges {
  readonly rooms: ReadonlyMap<string, { readonly members: boolean }>;
  /** The user's newest sequence number (the next cursor). */
  readonly last: number;
}

/**
 * The `user_feed` table: a change log per user of the rooms that changed for them (created, renamed,
 * deactivated, a membership added, removed or changed). An entry names the room only; what the
 * room is now is read when a device catches up, so entries never go stale and a room that
 * changed ten times is sent once.
 */
export class FeedRepo {
  readonly #last;
  readonly #first;
  readonly #insert;
  readonly #since;
  readonly #prune;
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
    this.#last = db.prepare<[string]>(`SELECT MAX(seq) AS seq FROM user_feed WHERE user_id = ?`);
    this.#first = db.prepare<[string]>(`SELECT MIN(seq) AS seq FROM user_feed WHERE user_id = ?`);
    this.#insert = db.prepare<{ user: string; seq: number; room: string; members: number; at: number }>(
      `INSERT INTO user_feed (user_id, seq, room_id, members, at) VALUES (@user, @seq, @room, @members, @at)`,
    );
    this.#since = db.prepare<[string, number]>(`SELECT room_id, members FROM user_feed WHERE user_id = ? AND seq > ? ORDER BY seq`);
    this.#prune = db.prepare<[string, number]>(`DELETE FROM user_feed WHERE user_id = ? AND seq <= ?`);
  }

  /** Records that `roomId` changed for each user (its members too, with `members`); returns each user's new sequence number. */
  append(roomId: string, userIds: Iterable<string>, members: boolean, at: number): Map<string, number> {
    const seqs = new Map<string, number>();
    this.#db.transaction(() => {
      for (const user of new Set(userIds)) {
        const seq = this.lastSeq(user) + 1;
        this.#insert.run({ user, seq, room: roomId, members: members ? 1 : 0, at });
        if (seq % FEED_PRUNE_EVERY === 0) this.#prune.run(user, seq - FEED_ENTRIES_KEPT);
        seqs.set(user, seq);
      }
    })();
    return seqs;
  }

  /** The user's newest sequence number (0 before any entry). */
  lastSeq(userId: string): number {
    return parseRow(SeqRowSchema, this.#last.get(userId), 'user_feed').seq ?? 0;
  }

  /**
   * The rooms that changed for the user after `seq`, or null when entries after it were pruned
   * (the device must take the whole list again).
   */
  changesSince(userId: string, seq: number): FeedChanges | null {
    const first = parseRow(SeqRowSchema, this.#first.get(userId), 'user_feed').seq;
    const last = this.lastSeq(userId);
    if (seq > last) return null;
    if (first !== null && seq < first - 1) return null;
    const rooms = new Map<string, { members: boolean }>();
    for (const row of this.#since.all(userId, seq)) {
      const change = parseRow(ChangeRowSchema, row, 'user_feed');
      rooms.set(change.room_id, { members: (rooms.get(change.room_id)?.members ?? false) || change.members === 1 });
    }
    return { rooms, last };
  }
}
