import { z } from 'zod';
import { ChangeRowSchema, FEED_ENTRIES_KEPT, FEED_PRUNE_EVERY, type FeedChanges, type FeedRepo, SeqRowSchema } from '../FeedRepo.ts';
import { parseRow } from '../sqlRows.ts';
import type { AsyncApi } from '../AsyncApi.ts';
import type { Queryable } from './pgRepos.ts';

/** A `user_feed_heads` row as `append` returns it. */
const HeadRowSchema = z.object({ user_id: z.string(), seq: z.number().int().positive() });

/**
 * The user feed's change log (`user_feed`) on PostgreSQL: FeedRepo's contract (see there), for
 * nodes sharing one database.
 *
 * Sequence numbers when several nodes append for one user at once: each user has a row in
 * `user_feed_heads` holding their newest number, and `append` takes the next one with an upsert
 * on it (`last_seq + 1`), in the same statement that logs the entries. The upsert locks the row
 * until the statement's transaction ends, so a second node appending for the same user waits,
 * then increments what the first committed. Numbers are therefore unique and gap-free (a rolled
 * back append gives its number back), and a user's entries commit in their number order: a reader
 * never sees entry n+1 without entry n, so a cursor never skips one. The alternative,
 * `coalesce(max(seq), 0) + 1` with a retry on a unique violation, makes the second writer wait
 * for the first anyway (on the primary key) and then fail and run again; the lock only waits.
 * Users are locked in one order (sorted), so two appends to overlapping users cannot deadlock.
 */
export class PgFeedRepo implements AsyncApi<FeedRepo> {
  readonly #db: Queryable;

  constructor(db: Queryable) {
    this.#db = db;
  }

  /**
   * Records that `roomId` changed for each user (its members too, with `members`); returns each
   * user's new sequence number, in the order of `userIds`. One statement: numbers, entries and
   * the pruning of each user whose number reached a multiple of FEED_PRUNE_EVERY.
   */
  async append(roomId: string, userIds: Iterable<string>, members: boolean, at: number): Promise<Map<string, number>> {
    const users = [...new Set(userIds)];
    if (users.length === 0) return new Map();
    const { rows } = await this.#db.query(
      `WITH heads AS (
         INSERT INTO user_feed_heads AS h (user_id, last_seq)
         SELECT user_id, 1 FROM unnest($1::text[]) WITH ORDINALITY AS t(user_id, i) ORDER BY i
         ON CONFLICT (user_id) DO UPDATE SET last_seq = h.last_seq + 1
         RETURNING h.user_id, h.last_seq AS seq
       ), logged AS (
         INSERT INTO user_feed (user_id, seq, room_id, members, at) SELECT user_id, seq, $2::text, $3::smallint, $4::bigint FROM heads
       ), pruned AS (
         DELETE FROM user_feed f USING heads
         WHERE heads.seq % $5::bigint = 0 AND f.user_id = heads.user_id AND f.seq <= heads.seq - $6::bigint
       )
       SELECT user_id, seq FROM heads`,
      [[...users].sort(), roomId, members ? 1 : 0, at, FEED_PRUNE_EVERY, FEED_ENTRIES_KEPT],
    );
    const seqOf = new Map(rows.map((row) => parseRow(HeadRowSchema, row, 'user_feed_heads')).map((head) => [head.user_id, head.seq]));
    return new Map(
      users.map((user) => {
        const seq = seqOf.get(user);
        if (seq === undefined) throw new Error(`feed append returned no sequence number for user ${user}`);
        return [user, seq];
      }),
    );
  }

  /** The user's newest sequence number (0 before any entry). */
  async lastSeq(userId: string): Promise<number> {
    const { rows } = await this.#db.query('SELECT MAX(seq) AS seq FROM user_feed WHERE user_id = $1', [userId]);
    return parseRow(SeqRowSchema, rows[0], 'user_feed').seq ?? 0;
  }

  /**
   * The rooms that changed for the user after `seq`, or null when entries after it were pruned (the
   * device must take the whole list again). One statement, so one snapshot: the user's first and
   * last entries, and every entry after `seq`, in order (an append or a pruning on another node
   * cannot fall between reading the bounds and reading the entries).
   */
  async changesSince(userId: string, seq: number): Promise<FeedChanges | null> {
    const { rows } = await this.#db.query(
      `(SELECT seq, room_id, members FROM user_feed WHERE user_id = $1 ORDER BY seq LIMIT 1)
       UNION (SELECT seq, room_id, members FROM user_feed WHERE user_id = $1 ORDER BY seq DESC LIMIT 1)
       UNION (SELECT seq, room_id, members FROM user_feed WHERE user_id = $1 AND seq > $2)
       ORDER BY seq`,
      [userId, seq],
    );
    const entries = rows.map((row) => ({ seq: parseRow(SeqRowSchema, row, 'user_feed').seq ?? 0, change: parseRow(ChangeRowSchema, row, 'user_feed') }));
    const first = entries[0]?.seq ?? null;
    const last = entries[entries.length - 1]?.seq ?? 0;
    if (seq > last) return null;
    if (first !== null && seq < first - 1) return null;
    const rooms = new Map<string, { members: boolean }>();
    for (const { seq: at, change } of entries) {
      if (at <= seq) continue;
      rooms.set(change.room_id, { members: (rooms.get(change.room_id)?.members ?? false) || change.members === 1 });
    }
    return { rooms, last };
  }
}
