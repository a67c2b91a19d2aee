import { CountRowSchema, type MentionRepo, type MentionRow } from '../MentionRepo.ts';
import { parseRow } from '../sqlRows.ts';
import type { AsyncApi } from '../AsyncApi.ts';
import type { Queryable } from './pgRepos.ts';
import { sqlLimit, transaction } from './pgTransactions.ts';

/**
 * `segment_mentions` on PostgreSQL: MentionRepo's contract (see there). A message moved between
 * segments keeps its row under the new one whichever segment is written first, as in SQLite (the
 * removal names the old segment), and even when both are written at once on two connections: a
 * removal that waits on the new segment's upsert of the row sees it moved and leaves it.
 */
export class PgMentionRepo implements AsyncApi<MentionRepo> {
  readonly #db: Queryable;

  constructor(db: Queryable) {
    this.#db = db;
  }

  /** Segment `segment` of the room holds exactly `rows` (what it held before is dropped). */
  async replaceSegment(roomId: string, segment: number, rows: readonly MentionRow[]): Promise<void> {
    await transaction(this.#db, async (client) => {
      await client.query('DELETE FROM segment_mentions WHERE room_id = $1 AND segment = $2', [roomId, segment]);
      await apply(client, roomId, segment, rows, []);
    });
  }

  /** Segment `segment` of the room gained `added` and lost `removed` since it was last written. */
  async update(roomId: string, segment: number, added: readonly MentionRow[], removed: readonly MentionRow[]): Promise<void> {
    if (added.length === 0 && removed.length === 0) return;
    await transaction(this.#db, (client) => apply(client, roomId, segment, added, removed));
  }

  /** The user's mentions after message id `after` ('' for all) in the room's segments other than `exceptSegment`, up to `cap`. */
  async countAfter(roomId: string, userId: string, after: string, exceptSegment: number, cap: number): Promise<number> {
    const { rows } = await this.#db.query(
      `SELECT count(*) AS n FROM (
         SELECT 1 FROM segment_mentions WHERE room_id = $1 AND user_id = $2 AND message_id > $3 AND segment <> $4 LIMIT $5
       ) AS capped`,
      [roomId, userId, after, exceptSegment, sqlLimit(cap)],
    );
    return parseRow(CountRowSchema, rows[0], 'segment_mentions').n;
  }
}

/** Removals, then additions (an added row already under another segment moves here), as SQLite's INSERT OR REPLACE. */
async function apply(db: Queryable, roomId: string, segment: number, added: readonly MentionRow[], removed: readonly MentionRow[]): Promise<void> {
  if (removed.length > 0) {
    await db.query(
      `DELETE FROM segment_mentions m USING unnest($3::text[], $4::text[]) AS r(user_id, message_id)
       WHERE m.room_id = $1 AND m.segment = $2 AND m.user_id = r.user_id AND m.message_id = r.message_id`,
      [roomId, segment, removed.map((r) => r.userId), removed.map((r) => r.messageId)],
    );
  }
  if (added.length > 0) {
    // One upsert may not touch a row twice: a row added twice is added once (both name this segment).
    const rows = new Map(added.map((r) => [JSON.stringify([r.userId, r.messageId]), r]));
    await db.query(
      `INSERT INTO segment_mentions (room_id, user_id, message_id, segment)
       SELECT $1::text, user_id, message_id, $2::integer FROM unnest($3::text[], $4::text[]) AS a(user_id, message_id)
       ON CONFLICT (room_id, user_id, message_id) DO UPDATE SET segment = excluded.segment`,
      [roomId, segment, [...rows.values()].map((r) => r.userId), [...rows.values()].map((r) => r.messageId)],
    );
  }
}
