import { FeedResumeSchema, feedKeepalive, type FeedChanges } from '../../shared/models/userFeed.ts';
import type { UserFeed } from './UserFeed.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();

/**
 * One device's feed channel on a multiplexed socket: subscribed to the user's feed while open;
 * the client's resume frame (JSON, FeedResumeSchema) is answered with what changed since its
 * cursor. Anything else from the client ends the channel (`bad`). A channel that sent nothing for
 * the feed's keepaliveMs sends a keepalive (feedKeepalive), so the device can tell a quiet feed
 * from a dead socket.
 */
export class FeedChannel {
  readonly #unsubscribe: () => void;
  readonly #feed: UserFeed;
  readonly #subscriber: { readonly userId: string; send: (changes: FeedChanges) => void };
  readonly #bad: (reason: string) => void;
  readonly #send: (bytes: Uint8Array) => void;
  /** The cursor of the last frame sent: a keepalive repeats it. None before the first (the resume's answer). */
  #cursor: string | null = null;
  /** When the last frame was sent (performance.now()). */
  #sentAt = performance.now();
  /**
   * One timer per channel, armed for when the channel will have been quiet for keepaliveMs; a
   * frame sent meanwhile moves that time without touching the timer (it re-arms when it fires).
   */
  #keepalive: NodeJS.Timeout | null = null;

  constructor(feed: UserFeed, userId: string, send: (bytes: Uint8Array) => void, bad: (reason: string) => void) {
    this.#feed = feed;
    this.#bad = bad;
    this.#send = send;
    this.#subscriber = { userId, send: (changes) => this.#sendChanges(changes) };
    this.#unsubscribe = feed.subscribe(this.#subscriber);
    this.#armKeepalive(feed.keepaliveMs);
  }

  receive(body: Uint8Array): void {
    let json: unknown;
    try {
      json = JSON.parse(utf8.decode(body));
    } catch {
      return this.#bad('a feed frame is one JSON object in UTF-8');
    }
    const resume = FeedResumeSchema.safeParse(json);
    if (!resume.success) return this.#bad(`not a feed frame: ${resume.error.issues[0]?.message ?? 'invalid'}`);
    // Answered in the user's turn (UserFeed), after the frames already due; failures are logged there.
    void this.#feed.resume(this.#subscriber, resume.data.cursor);
  }

  detach(): void {
    this.#unsubscribe();
    if (this.#keepalive) clearTimeout(this.#keepalive);
    this.#keepalive = null;
  }

  #sendChanges(changes: FeedChanges): void {
    this.#cursor = changes.cursor;
    this.#sentAt = performance.now();
    this.#send(encoder.encode(JSON.stringify(changes)));
  }

  #armKeepalive(delayMs: number): void {
    this.#keepalive = setTimeout(() => this.#keepaliveDue(), delayMs);
    this.#keepalive.unref();
  }

  #keepaliveDue(): void {
    const interval = this.#feed.keepaliveMs;
    const quiet = performance.now() - this.#sentAt;
    if (quiet < interval) return this.#armKeepalive(interval - quiet);
    // A channel whose resume never came has no cursor to repeat: the client will give up on it.
    if (this.#cursor !== null) this.#sendChanges(feedKeepalive(this.#cursor));
    else this.#sentAt = performance.now();
    this.#armKeepalive(interval);
  }
}
