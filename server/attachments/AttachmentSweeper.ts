import type { Logger } from '../log.ts';
import type { Attachments, CollectOutcome } from './Attachments.ts';

/**
 * Attachment garbage collection on a timer (PARLEY_ATTACHMENT_GC_INTERVAL_MS, unref'd so it never
 * keeps the process alive): each pass first writes the reference rows still waiting (so a message
 * deleted a moment ago, or one just moved between documents, is seen as it is), then removes what
 * Attachments.collect finds. `sweep(now)` runs a pass at any clock, so tests never wait.
 */
export class AttachmentSweeper {
  readonly #attachments: Attachments;
  readonly #flushReferences: () => void;
  readonly #logger: Logger;
  #timer: ReturnType<typeof setInterval> | null = null;
  #running: Promise<CollectOutcome> | null = null;

  constructor(deps: { attachments: Attachments; flushReferences: () => void; logger: Logger }) {
    this.#attachments = deps.attachments;
    this.#flushReferences = deps.flushReferences;
    this.#logger = deps.logger;
  }

  start(intervalMs: number): void {
    if (intervalMs <= 0 || this.#timer) return;
    this.#timer = setInterval(() => {
      this.sweep().catch((err: unknown) => this.#logger.error({ err }, 'attachments: garbage collection failed'));
    }, intervalMs);
    this.#timer.unref();
  }

  /** One pass (a pass already running is awaited instead of overlapping it). */
  sweep(now?: number): Promise<CollectOutcome> {
    this.#running ??= this.#pass(now).finally(() => {
      this.#running = null;
    });
    return this.#running;
  }

  async #pass(now: number | undefined): Promise<CollectOutcome> {
    this.#flushReferences();
    return this.#attachments.collect(now);
  }

  /** Stops the timer and waits for a pass in progress. */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#running?.catch(() => {});
  }
}
