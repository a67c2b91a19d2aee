import { z } from 'zod';
import type { Db } from './openDatabase.ts';
import { parseRow } from './sqlRows.ts';

/** One counted mention: a message naming `userId`, sent by someone else, not deleted. */
export interface MentionRow {
  readonly userId: string;
  readonly messageId: string;
}

/** Shared with PgMentionRepo. */
export const CountRowSchema = z.object({ n: z.number().int().nonnegative() });

/**
 * `segment_mentions`: the counted mentions each segment of a segmented room held when it was
 * last loaded, so a member's mention count covers the segments nobody has loaded (RoomSummaries).
 * A message moved to another segment moves its rows: removal is per segment, so a move recorded
 * in either order leaves the row under its new segment.
 */
export class MentionRepo {
  readonly #db: Db;
  readonly #clear;
  readonly #put;
  readonly #remove;
  readonly #countAfter;

  constructor(db: Db) {
    this.#db = db;
    this.#clear = db.prepare<[string, number]>('DELETE FROM segment_mentions WHERE room_id = ? AND segment = ?');
    this.#put = db.prepare<{ room_id: string; user_id: string; message_id: string; segment: number }>(
      'INSERT OR REPLACE INTO segment_mentions (room_id, user_id, message_id, segment) VALUES (@room_id, @user_id, @message_id, @segment)',
    );
    this.#remove = db.prepare<{ room_id: string; user_id: string; message_id: string; segment: number }>(
      'DELETE FROM segment_mentions WHERE room_id = @room_id AND user_id = @user_id AND message_id = @message_id AND segment = @segment',
    );
    this.#countAfter = db.prepare<{ room_id: string; user_id: string; after: string; segment: number; cap: number }>(
      `SELECT count(*) AS n FROM (
         SELECT 1 FROM segment_mentions
         WHERE room_id = @room_id AND user_id = @user_id AND message_id > @after AND segment != @segment
         LIMIT @cap)`,
    );
  }

  /** Segment `segment` of the room holds exactly `rows` (what it held before is dropped). */
  replaceSegment(roomId: string, segment: number, rows: readonly MentionRow[]): void {
    this.#db.transaction(() => {
      this.#clear.run(roomId, segment);
      this.#apply(roomId, segment, rows, []);
    })();
  }

  /** Segment `segment` of the room gained `added` and lost `removed` since it was last written. */
  update(roomId: string, segment: number, added: readonly MentionRow[], removed: readonly MentionRow[]): void {
    if (added.length === 0 && removed.length === 0) return;
    this.#db.transaction(() => this.#apply(roomId, segment, added, removed))();
  }

  #apply(roomId: string, segment: number, added: readonly MentionRow[], removed: readonly MentionRow[]): void {
    for (const r of removed) this.#remove.run({ room_id: roomId, user_id: r.userId, message_id: r.messageId, segment });
    for (const r of added) this.#put.run({ room_id: roomId, user_id: r.userId, message_id: r.messageId, segment });
  }

  /** The user's mentions after message id `after` ('' for all) in the room's segments other than `exceptSegment`, up to `cap`. */
  countAfter(roomId: string, userId: string, after: string, exceptSegment: number, cap: number): number {
    return parseRow(CountRowSchema, this.#countAfter.get({ room_id: roomId, user_id: userId, after, segment: exceptSegment, cap }), 'segment_mentions').n;
  }
}
