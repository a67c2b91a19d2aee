import { z } from 'zod';
import { UuidSchema } from '../../shared/ids.ts';
import type { Db } from './openDatabase.ts';
import { parseRow } from './sqlRows.ts';

/** A webhook delivery to make: its id (X-Parley-Delivery), the JSON body as it will be signed, and the attempts made so far. */
export interface OutboxEntry {
  readonly id: string;
  readonly body: string;
  readonly attempts: number;
}

/** A notification to deliver, as enqueued. */
export interface NewOutboxEntry {
  readonly id: string;
  readonly messageId: string;
  readonly userId: string;
  readonly body: string;
}

/** Row schemas, shared with PgOutboxRepo. */
export const EntryRowSchema = z.object({ id: UuidSchema, body: z.string(), attempts: z.number().int().nonnegative() });
export const AtRowSchema = z.object({ at: z.number().int().nullable() });
export const CountRowSchema = z.object({ n: z.number().int().nonnegative() });

/**
 * The webhook's durable outbox (`notification_outbox`): a row per (message, recipient) from the
 * moment the server decides to call the webhook until the call succeeds or is given up, so a
 * restart loses no delivery. A row being sent is leased (its next attempt moved past the
 * request's timeout), so a crash mid-request retries it after the lease.
 */
export class OutboxRepo {
  readonly #db: Db;
  readonly #insert;
  readonly #due;
  readonly #lease;
  readonly #remove;
  readonly #retry;
  readonly #next;
  readonly #count;

  constructor(db: Db) {
    this.#db = db;
    // A message is notified once per recipient, whatever happens around it.
    this.#insert = db.prepare<{ id: string; message_id: string; user_id: string; body: string; now: number }>(
      `INSERT OR IGNORE INTO notification_outbox (id, message_id, user_id, body, attempts, next_attempt_at, created_at)
       VALUES (@id, @message_id, @user_id, @body, 0, @now, @now)`,
    );
    this.#due = db.prepare<[number, number]>(
      `SELECT id, body, attempts FROM notification_outbox WHERE next_attempt_at <= ? ORDER BY next_attempt_at, created_at LIMIT ?`,
    );
    this.#lease = db.prepare<[number, string]>(`UPDATE notification_outbox SET next_attempt_at = ? WHERE id = ?`);
    this.#remove = db.prepare<[string]>(`DELETE FROM notification_outbox WHERE id = ?`);
    this.#retry = db.prepare<{ id: string; attempts: number; at: number; error: string }>(
      `UPDATE notification_outbox SET attempts = @attempts, next_attempt_at = @at, last_error = @error WHERE id = @id`,
    );
    this.#next = db.prepare(`SELECT MIN(next_attempt_at) AS at FROM notification_outbox`);
    this.#count = db.prepare(`SELECT COUNT(*) AS n FROM notification_outbox`);
  }

  /** Enqueues deliveries due now, in one transaction; one already enqueued for the same (message, recipient) is skipped. Returns how many were added. */
  add(entries: readonly NewOutboxEntry[], now: number): number {
    if (entries.length === 0) return 0;
    let added = 0;
    this.#db.transaction(() => {
      for (const e of entries) added += this.#insert.run({ id: e.id, message_id: e.messageId, user_id: e.userId, body: e.body, now }).changes;
    })();
    return added;
  }

  /** Takes up to `limit` deliveries due at `now` and leases them until `leaseUntil` (nobody takes them again before). */
  lease(now: number, limit: number, leaseUntil: number): OutboxEntry[] {
    return this.#db.transaction(() => {
      const rows = this.#due.all(now, limit).map((row) => parseRow(EntryRowSchema, row, 'notification_outbox'));
      for (const row of rows) this.#lease.run(leaseUntil, row.id);
      return rows;
    })();
  }

  /** Runs `fn` (several of the writes below) in one transaction. */
  batch(fn: () => void): void {
    this.#db.transaction(fn)();
  }

  /** Delivered, or given up: the row goes. */
  remove(id: string): void {
    this.#remove.run(id);
  }

  /** The attempt failed: `attempts` made so far, the next one at `at`. */
  retryAt(id: string, attempts: number, at: number, error: string): void {
    this.#retry.run({ id, attempts, at, error: error.slice(0, 500) });
  }

  /** When the earliest delivery is due (ms), or null when the outbox is empty. */
  nextDueAt(): number | null {
    return parseRow(AtRowSchema, this.#next.get(), 'notification_outbox').at;
  }

  /** Deliveries waiting (tests, operations). */
  size(): number {
    return parseRow(CountRowSchema, this.#count.get(), 'notification_outbox').n;
  }
}
