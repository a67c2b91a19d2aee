import type { Logger } from '../log.ts';
import type { AsyncApi } from '../storage/AsyncApi.ts';
import type { OutboxEntry, OutboxRepo } from '../storage/OutboxRepo.ts';
import { WEBHOOK_HEADERS } from '../../shared/models/notification.ts';
import { DEFAULT_RETRY, outcomeOf, parseRetryAfter, type AttemptOutcome, type AttemptResult, type RetrySchedule } from './retrySchedule.ts';
import { signWebhook } from './webhookSignature.ts';

/** The webhook's settings (PARLEY_WEBHOOK_URL, PARLEY_WEBHOOK_SECRET; the rest for embedding and tests). */
export interface WebhookSettings {
  readonly url: string;
  readonly secret: string;
  /** Default DEFAULT_RETRY. */
  readonly retry?: Partial<RetrySchedule>;
  /** One request's time limit, ms (default 10 s); past it the attempt failed. */
  readonly timeoutMs?: number;
  /** Requests in flight at once (default 4). */
  readonly concurrency?: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_CONCURRENCY = 4;
/** A leased delivery is due again this long after its request's time limit (a crash mid-request). */
const LEASE_MARGIN_MS = 5_000;

/**
 * Delivers the outbox to the webhook in the background: each due delivery POSTed with its
 * signature, a few at a time; the outcome (delivered, retry at, given up) written back, the
 * outcomes of one turn in one transaction. Nothing here runs on the sync path: it is driven by
 * its own timer and by `wake()` after the notifier enqueued something.
 *
 * The outbox is asynchronous (either backend), so what was one synchronous step is now several:
 * - one pump at a time: a wake while the outbox is being leased runs the pump again once it ends,
 *   so two pumps never count the same free slots and lease past the concurrency;
 * - a delivery's slot frees when its answer comes, before its outcome is written; its row stays
 *   leased (not due until the request's time limit plus LEASE_MARGIN_MS) until that write commits,
 *   so no pump leases it again meanwhile (no double send), and the write follows at the next turn;
 * - outcome writes go one batch after another, all through the transaction's outbox (`tx`), and
 *   are logged once committed; a failed write leaves the rows leased: sent again after the lease
 *   (at least once, never lost);
 * - close() waits for the pump (rows it leased once closing are written back due at once, attempt
 *   not counted), then the requests, then every outcome's write: nothing is written after it, and
 *   nothing leased is left to wait for its lease to run out.
 */
export class WebhookSender {
  readonly #outbox: AsyncApi<OutboxRepo>;
  readonly #url: string;
  readonly #secret: string;
  readonly #schedule: RetrySchedule;
  readonly #timeoutMs: number;
  readonly #concurrency: number;
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #inFlight = new Map<string, Promise<void>>();
  /** Outcomes waiting to be written (one transaction per turn). */
  #settled: Array<{ entry: OutboxEntry; attempt: number; outcome: AttemptOutcome | null }> = [];
  #writeTimer: NodeJS.Immediate | null = null;
  /** The outcome writes, one batch after another: settles when the last one queued has ended. */
  #writing: Promise<void> = Promise.resolve();
  /** The pump running, or null; `#pumpAgain`: woken meanwhile, it runs once more. */
  #pumping: Promise<void> | null = null;
  #pumpAgain = false;
  #timer: NodeJS.Timeout | null = null;
  #timerAt = Infinity;
  readonly #closing = new AbortController();

  constructor(opts: { outbox: AsyncApi<OutboxRepo>; settings: WebhookSettings; logger: Logger; now?: () => number }) {
    this.#outbox = opts.outbox;
    this.#url = opts.settings.url;
    this.#secret = opts.settings.secret;
    this.#schedule = { ...DEFAULT_RETRY, ...opts.settings.retry };
    this.#timeoutMs = opts.settings.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#concurrency = opts.settings.concurrency ?? DEFAULT_CONCURRENCY;
    this.#logger = opts.logger;
    this.#now = opts.now ?? Date.now;
  }

  /** Something was enqueued (or the server started): send what is due. */
  wake(): void {
    if (this.#closing.signal.aborted) return;
    this.#pump();
  }

  /** Stops: aborts the requests in flight (those deliveries stay due, with their attempt not counted) and writes every outcome. */
  async close(): Promise<void> {
    this.#closing.abort();
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#pumping;
    await Promise.all(this.#inFlight.values());
    await this.#writeSettled();
  }

  #pump(): void {
    if (this.#pumping) {
      this.#pumpAgain = true;
      return;
    }
    this.#pumping = (async () => {
      do {
        this.#pumpAgain = false;
        await this.#pumpOnce();
      } while (this.#pumpAgain && !this.#closing.signal.aborted);
    })()
      .catch((err: unknown) => this.#logger.error({ err }, 'webhook: leasing deliveries failed'))
      .finally(() => (this.#pumping = null));
  }

  async #pumpOnce(): Promise<void> {
    const free = this.#concurrency - this.#inFlight.size;
    if (free > 0) {
      const now = this.#now();
      const leased = await this.#outbox.lease(now, free, now + this.#timeoutMs + LEASE_MARGIN_MS);
      for (const entry of leased) {
        // Leased as the server stopped: given back, due at once, attempt not counted (close() writes it).
        if (this.#closing.signal.aborted) this.#settled.push({ entry, attempt: entry.attempts + 1, outcome: null });
        else this.#send(entry);
      }
    }
    // With every slot taken, the next outcome pumps again; a timer now would only spin.
    if (this.#inFlight.size < this.#concurrency && !this.#closing.signal.aborted) await this.#arm();
  }

  /** Wakes at the earliest delivery due (leased ones are due only after their lease). */
  async #arm(): Promise<void> {
    const next = await this.#outbox.nextDueAt();
    if (next === null || next >= this.#timerAt || this.#closing.signal.aborted) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timerAt = next;
    this.#timer = setTimeout(
      () => {
        this.#timer = null;
        this.#timerAt = Infinity;
        if (!this.#closing.signal.aborted) this.#pump();
      },
      Math.max(0, next - this.#now()),
    );
    this.#timer.unref();
  }

  #send(entry: OutboxEntry): void {
    const attempt = entry.attempts + 1;
    const timestamp = Math.floor(this.#now() / 1000);
    const request = fetch(this.#url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Parley-Webhook/1',
        [WEBHOOK_HEADERS.signature]: signWebhook(this.#secret, timestamp, entry.body),
        [WEBHOOK_HEADERS.timestamp]: String(timestamp),
        [WEBHOOK_HEADERS.delivery]: entry.id,
        [WEBHOOK_HEADERS.attempt]: String(attempt),
      },
      body: entry.body,
      redirect: 'manual',
      signal: AbortSignal.any([this.#closing.signal, AbortSignal.timeout(this.#timeoutMs)]),
    });
    const done = request
      .then(
        async (res): Promise<AttemptResult> => {
          // The answer's body is not read; cancelling it frees the connection.
          await res.body?.cancel().catch(() => undefined);
          return { status: res.status, retryAfterMs: parseRetryAfter(res.headers.get('retry-after'), this.#now()) };
        },
        (err: unknown): AttemptResult => ({ error: describe(err) }),
      )
      .then((result) => {
        this.#inFlight.delete(entry.id);
        const interrupted = this.#closing.signal.aborted && 'error' in result;
        this.#settle(entry, attempt, interrupted ? null : outcomeOf(result, attempt, this.#schedule, this.#now()));
      });
    this.#inFlight.set(entry.id, done);
  }

  /** `outcome` null: interrupted by shutdown, due again at once on the next start. */
  #settle(entry: OutboxEntry, attempt: number, outcome: AttemptOutcome | null): void {
    this.#settled.push({ entry, attempt, outcome });
    if (this.#closing.signal.aborted) return;
    this.#writeTimer ??= setImmediate(() => {
      void this.#writeSettled().then(() => {
        if (!this.#closing.signal.aborted) this.#pump();
      });
    });
  }

  /** Writes the outcomes settled so far, in one transaction, after the writes queued before; never rejects. */
  #writeSettled(): Promise<void> {
    if (this.#writeTimer) clearImmediate(this.#writeTimer);
    this.#writeTimer = null;
    const settled = this.#settled;
    this.#settled = [];
    if (settled.length === 0) return this.#writing;
    const write = this.#writing.then(async () => {
      const now = this.#now();
      const logs: Array<() => void> = [];
      try {
        // Every write through `tx`, the outbox bound to the transaction (on PostgreSQL the outer one runs outside it).
        await this.#outbox.batch(async (tx) => {
          for (const { entry, attempt, outcome } of settled) logs.push(await this.#write(tx, entry, attempt, outcome, now));
        });
      } catch (err) {
        // The leases run out and the deliveries are tried again: at least once, never lost.
        this.#logger.error({ err }, 'webhook: writing delivery outcomes failed');
        return;
      }
      // Once committed: a "delivered" line means the row is gone.
      for (const log of logs) log();
    });
    this.#writing = write;
    return write;
  }

  /** Writes one outcome through `tx`; returns its log line, written once the transaction committed. */
  async #write(tx: AsyncApi<OutboxRepo>, entry: OutboxEntry, attempt: number, outcome: AttemptOutcome | null, now: number): Promise<() => void> {
    const log = { delivery: entry.id, attempt };
    if (outcome === null) {
      await tx.retryAt(entry.id, entry.attempts, now, 'interrupted by shutdown');
      return () => {};
    }
    if (outcome.kind === 'delivered') {
      await tx.remove(entry.id);
      return () => this.#logger.debug(log, 'webhook: delivered');
    }
    if (outcome.kind === 'give_up') {
      await tx.remove(entry.id);
      return () => this.#logger.warn({ ...log, reason: outcome.reason }, 'webhook: delivery given up');
    }
    await tx.retryAt(entry.id, attempt, outcome.at, outcome.reason);
    return () => this.#logger.info({ ...log, reason: outcome.reason, retryInMs: outcome.at - now }, 'webhook: delivery failed, will retry');
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    if (err.name === 'TimeoutError') return 'timed out';
    const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
    return `${err.message}${cause}`;
  }
  return String(err);
}
