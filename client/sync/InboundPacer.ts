export interface InboundPacerOptions {
  /** Most work per period, in ms (default 4). */
  readonly budgetMs?: number;
  /** The period, in ms (default a 60 Hz frame). */
  readonly periodMs?: number;
  readonly now?: () => number;
  readonly defer?: (fn: () => void, ms: number) => void;
}

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

  /** `now` and `defer` are the clock and the timer (tests give their own). */
  constructor({ budgetMs = 4, periodMs = 1000 / 60, now = () => performance.now(), defer = (fn: () => void, ms: number) => void setTimeout(fn, ms) }: InboundPacerOptions = {}) {
    this.#budgetMs = budgetMs;
    this.#periodMs = periodMs;
    this.#now = now;
    this.#defer = defer;
  }

  /** Runs `work` now if this period's budget allows and nothing waits before it, else later in order. */
  run(work: () => void): void {
    this.#queue.push(work);
    if (!this.#waiting) this.#drain();
  }

  /** Work waiting to run. */
  get waiting(): number {
    return this.#queue.length;
  }

  readonly #drain = (): void => {
    this.#waiting = false;
    while (this.#queue.length > 0) {
      const now = this.#now();
      if (now - this.#periodStart >= this.#periodMs) [this.#periodStart, this.#spent] = [now, 0];
      if (this.#spent >= this.#budgetMs) {
        this.#waiting = true;
        this.#defer(this.#drain, Math.max(0, this.#periodStart + this.#periodMs - now));
        return;
      }
      const work = this.#queue.shift();
      try {
        work?.();
      } finally {
        this.#spent += this.#now() - now;
      }
    }
  };
}

/** The pacer ChatClientOptions.pacedHistory asks for, if any (on by default in a web page). */
export function pacerFor(option: boolean | { readonly budgetMs?: number } | undefined): { pacer?: InboundPacer } {
  const on = option === undefined ? typeof document !== 'undefined' : option !== false;
  if (!on) return {};
  return { pacer: new InboundPacer(typeof option === 'object' && option.budgetMs !== undefined ? { budgetMs: option.budgetMs } : {}) };
}
