import type { Logger } from '../log.ts';
import type { Attachments, CollectOutcome, ReferenceCheck } from './Attachments.ts';
import { Semaphore } from './Semaphore.ts';

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
  /**
   * Passes never overlap: one asked for while another runs begins after it, since the running one
   * may have listed its candidates before the caller's change (a deletion just answered).
   */
  readonly #passes = new Semaphore(1);
  /** Passes asked for and not ended (the timer adds none while one is). */
  #pending = 0;

  constructor(deps: { attachments: Attachments; references: ReferenceCheck; logger: Logger }) {
    this.#attachments = deps.attachments;
    this.#references = deps.references;
    this.#logger = deps.logger;
  }

  start(intervalMs: number): void {
    if (intervalMs <= 0 || this.#timer) return;
    this.#timer = setInterval(() => {
      if (this.#pending > 0) return;
      this.sweep().catch((err: unknown) => this.#logger.error({ err }, 'attachments: garbage collection failed'));
    }, intervalMs);
    this.#timer.unref();
  }

  /** One pass, after any pass already asked for; its failure is the caller's. */
  async sweep(now?: number): Promise<CollectOutcome> {
    this.#pending++;
    try {
      return await this.#passes.run(() => this.#attachments.collect(this.#references, now));
    } finally {
      this.#pending--;
    }
  }

  /** Stops the timer and waits for a pass in progress. */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#passes.run(async () => {});
  }
}
