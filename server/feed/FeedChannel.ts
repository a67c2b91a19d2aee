import { FeedResumeSchema, type FeedChanges } from '../../shared/models/userFeed.ts';
import type { UserFeed } from './UserFeed.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();

/**
 * One device's feed channel on a multiplexed socket: subscribed to the user's feed while open;
 * the client's resume frame (JSON, FeedResumeSchema) is answered with what changed since its
 * cursor. Anything else from the client ends the channel (`bad`).
 */
export class FeedChannel {
  readonly #unsubscribe: () => void;
  readonly #feed: UserFeed;
  readonly #subscriber: { readonly userId: string; send: (changes: FeedChanges) => void };
  readonly #bad: (reason: string) => void;

  constructor(feed: UserFeed, userId: string, send: (bytes: Uint8Array) => void, bad: (reason: string) => void) {
    this.#feed = feed;
    this.#bad = bad;
    this.#subscriber = { userId, send: (changes) => send(encoder.encode(JSON.stringify(changes))) };
    this.#unsubscribe = feed.subscribe(this.#subscriber);
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
    this.#feed.resume(this.#subscriber, resume.data.cursor);
  }

  detach(): void {
    this.#unsubscribe();
  }
}
