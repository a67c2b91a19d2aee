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
  /** The last pass asked for: settles (never rejects) when it has ended. */
  #running: Promise<void> | null = null;

  constructor(deps: { attachments: Attachments; references: ReferenceCheck; logger: Logger }) {
    this.#attachments = deps.attachments;
    this.#references = deps.references;
    this.#logger = deps.logger;
  }

  start(intervalMs: number): void {
    if (intervalMs <= 0 || this.#timer) return;
    this.#timer = setInterval(() => {
      // A pass still running when the timer fires again is not followed by another one.
      if (this.#running) return;
      this.sweep().catch((err: unknown) => this.#logger.error({ err }, 'attachments: garbage collection failed'));
    }, intervalMs);
    this.#timer.unref();
  }

  /**
   * One pass. Passes never overlap: one asked for while another runs begins after it, since the
   * running one may have listed its candidates before the caller's change (a deletion just
   * answered) and would return without it.
   */
  sweep(now?: number): Promise<CollectOutcome> {
    const pass = (this.#running ?? Promise.resolve()).then(() => this.#attachments.collect(this.#references, now));
    // Settles when the pass has, failed or not (its failure is the caller's to handle).
    const ended: Promise<void> = pass.then(
      () => this.#ended(ended),
      () => this.#ended(ended),
    );
    this.#running = ended;
    return pass;
  }

  #ended(pass: Promise<void>): void {
    if (this.#running === pass) this.#running = null;
  }

  /** Stops the timer and waits for a pass in progress. */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#running;
  }
}
