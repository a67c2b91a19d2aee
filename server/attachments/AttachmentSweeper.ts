import type { Logger } from '../log.ts';
import type { Attachments, CollectOutcome, ReferenceCheck } from './Attachments.ts';

/**
 * Attachment garbage collection on a timer (PARLEY_ATTACHMENT_GC_INTERVAL_MS, unref'd so it never
 * keeps the process alive): each pass runs Attachments.collect, which first writes the reference
 * rows still waiting (so a message deleted a moment ago, or one just moved between documents, is
 * seen as it is) and reads the candidates' rooms' stored documents into them (`references`).
 * `sweep(now)` runs a pass at any clock, so tests never wait.
 */
export class AttachmentSweeper {
  readonly #attachments: Attachments;
  readonly #references: ReferenceCheck;
  readonly #logger: Logger;
  #timer: ReturnType<typeof setInterval> | null = null;
  #running: Promise<CollectOutcome> | null = null;

  constructor(deps: { attachments: Attachments; references: ReferenceCheck; logger: Logger }) {
    this.#attachments = deps.attachments;
    this.#references = deps.references;
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
    this.#running ??= this.#attachments.collect(this.#references, now).finally(() => {
      this.#running = null;
    });
    return this.#running;
  }

  /** Stops the timer and waits for a pass in progress. */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#running?.catch(() => {});
  }
}
