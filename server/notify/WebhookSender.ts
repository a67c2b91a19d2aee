import type { Logger } from '../log.ts';
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
 */
export class WebhookSender {
  readonly #outbox: OutboxRepo;
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
  #timer: NodeJS.Timeout | null = null;
  #timerAt = Infinity;
  readonly #closing = new AbortController();

  constructor(opts: { outbox: OutboxRepo; settings: WebhookSettings; logger: Logger; now?: () => number }) {
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
    await Promise.all(this.#inFlight.values());
    this.#writeSettled();
  }

  #pump(): void {
    const free = this.#concurrency - this.#inFlight.size;
    if (free > 0) {
      const now = this.#now();
      for (const entry of this.#outbox.lease(now, free, now + this.#timeoutMs + LEASE_MARGIN_MS)) this.#send(entry);
    }
    // With every slot taken, the next outcome pumps again; a timer now would only spin.
    if (this.#inFlight.size < this.#concurrency) this.#arm();
  }

  /** Wakes at the earliest delivery due (leased ones are due only after their lease). */
  #arm(): void {
    const next = this.#outbox.nextDueAt();
    if (next === null || next >= this.#timerAt) return;
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
      this.#writeSettled();
      if (!this.#closing.signal.aborted) this.#pump();
    });
  }

  #writeSettled(): void {
    if (this.#writeTimer) clearImmediate(this.#writeTimer);
    this.#writeTimer = null;
    const settled = this.#settled;
    this.#settled = [];
    if (settled.length === 0) return;
    const now = this.#now();
    try {
      this.#outbox.batch(() => {
        for (const { entry, attempt, outcome } of settled) this.#write(entry, attempt, outcome, now);
      });
    } catch (err) {
      // The leases run out and the deliveries are tried again: at least once, never lost.
      this.#logger.error({ err }, 'webhook: writing delivery outcomes failed');
    }
  }

  #write(entry: OutboxEntry, attempt: number, outcome: AttemptOutcome | null, now: number): void {
    const log = { delivery: entry.id, attempt };
    if (outcome === null) {
      this.#outbox.retryAt(entry.id, entry.attempts, now, 'interrupted by shutdown');
    } else if (outcome.kind === 'delivered') {
      this.#outbox.remove(entry.id);
      this.#logger.debug(log, 'webhook: delivered');
    } else if (outcome.kind === 'give_up') {
      this.#outbox.remove(entry.id);
      this.#logger.warn({ ...log, reason: outcome.reason }, 'webhook: delivery given up');
    } else {
      this.#outbox.retryAt(entry.id, attempt, outcome.at, outcome.reason);
      this.#logger.info({ ...log, reason: outcome.reason, retryInMs: outcome.at - now }, 'webhook: delivery failed, will retry');
    }
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
