import { z } from 'zod';

/** An HTTP `Date` header (RFC 9110 IMF-fixdate), as ms since the epoch. */
const HttpDateSchema = z
  .string()
  .transform((text) => Date.parse(text))
  .pipe(z.number().refine(Number.isFinite, 'not a date'));

/**
 * The server's clock as this device best knows it, for the ids and timestamps the SDK mints: a
 * device whose clock is wrong by hours would otherwise write messages the server refuses (dated
 * before the sender joined, or too far ahead) or that sort hours away from where they were
 * written. Estimated from the `Date` header of REST answers (whole seconds): the server's time is
 * taken as the middle of that second, at the middle of the round trip. Offsets within the
 * header's resolution and the round trip count as none, so a correct clock is never nudged.
 */
export class ServerClock {
  readonly #local: () => number;
  #offsetMs = 0;

  constructor(local: () => number = Date.now) {
    this.#local = local;
  }

  /** The server's time now, in ms since the epoch (the device's clock plus the measured offset). */
  readonly now = (): number => this.#local() + this.#offsetMs;

  /** How far ahead of this device the server's clock is, in ms (negative: behind). */
  get offsetMs(): number {
    return this.#offsetMs;
  }

  /** The device's own clock, for timing a request (sentAt, receivedAt). */
  local(): number {
    return this.#local();
  }

  /** Takes in the `Date` header of an answer to a request sent at `sentAt` and received at `receivedAt` (device ms). */
  observe(dateHeader: string | null, sentAt: number, receivedAt: number): void {
    const parsed = HttpDateSchema.safeParse(dateHeader);
    if (!parsed.success) return;
    const serverSecond = parsed.data;
    const offset = serverSecond + 500 - (sentAt + receivedAt) / 2;
    const uncertainty = 1000 + (receivedAt - sentAt) / 2;
    this.#offsetMs = Math.abs(offset) <= uncertainty ? 0 : Math.round(offset);
  }
}
