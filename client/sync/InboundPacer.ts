export interface InboundPacerOptions {
  /** Most work per period, in ms (default 4). */
  readonly budgetMs?: number;
  /** The period, in ms (default a 60 Hz frame). */
  readonly periodMs?: number;
  readonly now?: () => number;
  readonly defer?: (fn: () => void, ms: number) => void;
  /**
   * Runs work only in the page's idle time (requestIdleCallback in a browser): between frames,
   * never in a frame's last milliseconds, so a piece applied cannot push the next paint back.
   */
  readonly idle?: (fn: (deadline: IdleDeadlineLike) => void) => void;
}

/** What an idle callback is handed (the DOM's IdleDeadline). */
export interface IdleDeadlineLike {
  readonly didTimeout: boolean;
  timeRemaining(): number;
}

/** Idle time a piece needs left before the next frame to start (a 16 KiB piece applies in 1 to 4 ms). */
const IDLE_MARGIN_MS = 4;
/** The longest paced work waits for idle time when the page never has any (then it runs within the budget). */
const IDLE_TIMEOUT_MS = 100;

/**
 * Spreads inbound sync work over time so that it never takes more than `budgetMs` of every
 * `periodMs` (docs/client.md, "Paced segment downloads"): a sealed segment's reply arrives as a
 * hundred 16 KiB pieces back to back, and applying them as they come held a web page's frames for
 * a third of a second while the reader scrolled. One pacer serves every paced connection of a
 * client, in arrival order per connection; work of connections that are not paced (the head, the
 * open segment: live messages) never waits behind it.
 */
export class InboundPacer {
  readonly #budgetMs: number;
  readonly #periodMs: number;
  readonly #queue: Array<() => void> = [];
  #periodStart = -Infinity;
  #spent = 0;
  #waiting = false;
  readonly #now: () => number;
  readonly #defer: (fn: () => void, ms: number) => void;
  readonly #idle: ((fn: (deadline: IdleDeadlineLike) => void) => void) | undefined;

  /** `now`, `defer` and `idle` are the clock and the timers (tests give their own). */
  constructor({ budgetMs = 4, periodMs = 1000 / 60, now = () => performance.now(), defer = (fn: () => void, ms: number) => void setTimeout(fn, ms), idle }: InboundPacerOptions = {}) {
    this.#budgetMs = budgetMs;
    this.#periodMs = periodMs;
    this.#now = now;
    this.#defer = defer;
    this.#idle = idle;
  }

  /**
   * Runs `work` now if this period's budget allows and nothing waits before it (with `idle`: in
   * the next idle time), else later in order.
   */
  run(work: () => void): void {
    this.#queue.push(work);
    if (this.#waiting) return;
    this.#waiting = true;
    this.#resume();
  }

  /** Work waiting to run. */
  get waiting(): number {
    return this.#queue.length;
  }

  /** Drains the queue again: in the next idle time when there is one to wait for, else now. */
  readonly #resume = (): void => {
    if (this.#idle) this.#idle(this.#drain);
    else this.#drain();
  };

  /** Runs queued work in order until the period's budget is spent (or, given a deadline, until the next frame is near). */
  readonly #drain = (deadline?: IdleDeadlineLike): void => {
    this.#waiting = false;
    while (this.#queue.length > 0) {
      const now = this.#now();
      if (now - this.#periodStart >= this.#periodMs) [this.#periodStart, this.#spent] = [now, 0];
      if (this.#spent >= this.#budgetMs) {
        this.#waiting = true;
        this.#defer(this.#resume, Math.max(0, this.#periodStart + this.#periodMs - now));
        return;
      }
      if (deadline && !deadline.didTimeout && deadline.timeRemaining() < IDLE_MARGIN_MS) {
        this.#waiting = true;
        this.#resume();
        return;
      }
      this.#runOne(now);
    }
  };

  #runOne(startedAt: number): void {
    const work = this.#queue.shift();
    try {
      work?.();
    } finally {
      this.#spent += this.#now() - startedAt;
    }
  }
}

/** The pacer ChatClientOptions.pacedHistory asks for, if any (on by default in a web page). */
export function pacerFor(option: boolean | { readonly budgetMs?: number } | undefined): { pacer?: InboundPacer } {
  const on = option === undefined ? typeof document !== 'undefined' : option !== false;
  if (!on) return {};
  const budget = typeof option === 'object' && option.budgetMs !== undefined ? { budgetMs: option.budgetMs } : {};
  const idle = typeof requestIdleCallback === 'function' ? { idle: (fn: (deadline: IdleDeadlineLike) => void) => void requestIdleCallback(fn, { timeout: IDLE_TIMEOUT_MS }) } : {};
  return { pacer: new InboundPacer({ ...budget, ...idle }) };
}
