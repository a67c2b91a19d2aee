import { AtRowSchema, CountRowSchema, EntryRowSchema, type NewOutboxEntry, type OutboxEntry, type OutboxRepo } from '../OutboxRepo.ts';
import { parseRow } from '../sqlRows.ts';
import type { AsyncApi } from '../AsyncApi.ts';
import type { Queryable } from './pgRepos.ts';
import { sqlLimit, transaction } from './pgTransactions.ts';

/**
 * The webhook's outbox (`notification_outbox`) on PostgreSQL: OutboxRepo's contract (see there),
 * for nodes sharing one database, each with its own WebhookSender. `lease` locks the rows it takes
 * and skips rows another node is taking at that moment (FOR UPDATE SKIP LOCKED), so two nodes never
 * lease one delivery at once; a row one node leased is not due for the others until its lease runs
 * out, as for the same node. Due order ties (one enqueue's rows share their times) fall back to
 * `seq`, the insertion order, as SQLite's do to rowid.
 */
export class PgOutboxRepo implements AsyncApi<OutboxRepo> {
  readonly #db: Queryable;

  constructor(db: Queryable) {
    this.#db = db;
  }

  /** Enqueues deliveries due now, in one statement; one already enqueued for the same (message, recipient), or the same id, is skipped. Returns how many were added. */
  async add(entries: readonly NewOutboxEntry[], now: number): Promise<number> {
    if (entries.length === 0) return 0;
    const { rowCount } = await this.#db.query(
      `INSERT INTO notification_outbox (id, message_id, user_id, body, attempts, next_attempt_at, created_at)
       SELECT id, message_id, user_id, body, 0, $5::bigint, $5::bigint
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS e(id, message_id, user_id, body, i) ORDER BY i
       ON CONFLICT DO NOTHING`,
      [entries.map((e) => e.id), entries.map((e) => e.messageId), entries.map((e) => e.userId), entries.map((e) => e.body), now],
    );
    return rowCount ?? 0;
  }

  /** Takes up to `limit` deliveries due at `now` and leases them until `leaseUntil` (nobody, on any node, takes them again before). */
  async lease(now: number, limit: number, leaseUntil: number): Promise<OutboxEntry[]> {
    const { rows } = await this.#db.query(
      `WITH due AS (
         SELECT id, next_attempt_at, created_at, seq FROM notification_outbox WHERE next_attempt_at <= $1
         ORDER BY next_attempt_at, created_at, seq LIMIT $2 FOR UPDATE SKIP LOCKED
       ), leased AS (
         UPDATE notification_outbox o SET next_attempt_at = $3 FROM due WHERE o.id = due.id RETURNING o.id, o.body, o.attempts
       )
       SELECT leased.id, leased.body, leased.attempts FROM leased JOIN due USING (id) ORDER BY due.next_attempt_at, due.created_at, due.seq`,
      [now, sqlLimit(limit), leaseUntil],
    );
    return rows.map((row) => parseRow(EntryRowSchema, row, 'notification_outbox'));
  }

  /** Runs `fn` (several of the writes below, on the outbox it is given) in one transaction. */
  batch<R>(fn: (outbox: PgOutboxRepo) => Promise<R>): Promise<R> {
    return transaction(this.#db, (client) => fn(new PgOutboxRepo(client)));
  }

  /** Delivered, or given up: the row goes. */
  async remove(id: string): Promise<void> {
    await this.#db.query('DELETE FROM notification_outbox WHERE id = $1', [id]);
  }

  /** The attempt failed: `attempts` made so far, the next one at `at`. */
  async retryAt(id: string, attempts: number, at: number, error: string): Promise<void> {
    await this.#db.query('UPDATE notification_outbox SET attempts = $2, next_attempt_at = $3, last_error = $4 WHERE id = $1', [id, attempts, at, error.slice(0, 500)]);
  }

  /** When the earliest delivery is due (ms), or null when the outbox is empty. */
  async nextDueAt(): Promise<number | null> {
    const { rows } = await this.#db.query('SELECT MIN(next_attempt_at) AS at FROM notification_outbox');
    return parseRow(AtRowSchema, rows[0], 'notification_outbox').at;
  }

  /** Deliveries waiting (tests, operations). */
  async size(): Promise<number> {
    const { rows } = await this.#db.query('SELECT COUNT(*) AS n FROM notification_outbox');
    return parseRow(CountRowSchema, rows[0], 'notification_outbox').n;
  }
}
