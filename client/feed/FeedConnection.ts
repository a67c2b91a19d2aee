import { FEED_DOCUMENT, FeedChangesSchema, isKeepalive, type FeedChanges, type FeedResume } from '../../shared/models/userFeed.ts';
import { CloseCode } from '../../shared/protocol/closeCodes.ts';
import { ClientError } from '../errors/ClientError.ts';
import type { LocalStore } from '../store/LocalStore.ts';
import { backoffDelay, type BackoffOptions } from '../sync/backoff.ts';
import type { TokenProvider } from '../sync/connectionTypes.ts';
import { DEFAULT_SILENCE_MS, watchSilence } from '../sync/watchSilence.ts';
import type { SocketOpener } from '../sync/SyncSocket.ts';
import { SILENT_CLOSE_REASON, type WebSocketLike } from '../sync/WebSocketLike.ts';

export interface FeedConnectionOptions {
  readonly store: LocalStore;
  readonly openSocket: SocketOpener;
  readonly getToken: TokenProvider;
  readonly backoff?: BackoffOptions;
  /** Applies one frame of changes (the room list, members); the cursor is stored after it resolves. */
  readonly apply: (changes: FeedChanges) => Promise<void>;
  /** The server answered: it is reachable. */
  readonly reached: () => void;
  readonly onError: (error: ClientError) => void;
  /** Drop the channel and reconnect when nothing arrived for this long (the server speaks every 15 s, FEED_KEEPALIVE_MS). */
  readonly silenceMs?: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();

/**
 * The device's user feed (docs/protocol.md, "User feed"): a channel of the shared sync socket
 * that resumes from the stored cursor and applies every frame of changes in order, storing the
 * cursor only once what came with it is applied, so a crash in between replays it (applying is
 * idempotent: each entry is a room as it is now). Reconnects with backoff; after 4401 it asks
 * for a renewed token. A channel that heard nothing for `silenceMs` on a shared socket that heard
 * nothing either is dead (a half-open connection never closes): it is dropped, with the shared
 * socket, and opened again.
 */
export class FeedConnection {
  readonly #opts: FeedConnectionOptions;
  #ws: WebSocketLike | null = null;
  #attempt = 0;
  #renew = false;
  #timer: ReturnType<typeof setTimeout> | null = null;
  /** Cancels the watch for the server's silence on the channel (watchSilence). */
  #silence: (() => void) | null = null;
  /** The cursor of the last frame taken in: a frame that changes nothing and repeats it is a keepalive. */
  #cursor: string | null = null;
  /** Frames are applied one after the other, in the order they came. */
  #applying: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(opts: FeedConnectionOptions) {
    this.#opts = opts;
  }

  connect(): void {
    if (this.#closed || this.#ws || this.#timer) return;
    void this.#open();
  }

  /** Drops the channel and opens it again now (the network is back). */
  reconnectNow(): void {
    if (this.#closed) return;
    this.#attempt = 0;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#drop();
    this.connect();
  }

  /** Closes for good; resolves once the frames received so far are applied. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#drop();
    await this.#applying;
  }

  async #open(): Promise<void> {
    let token: string;
    let cursor: string | null;
    try {
      token = await this.#opts.getToken({ renew: this.#renew });
      cursor = await this.#opts.store.getFeedCursor();
    } catch (error) {
      this.#opts.onError(error instanceof ClientError ? error : new ClientError('unauthorized', `the token provider failed: ${String(error)}`, error));
      return this.#retry();
    }
    if (this.#closed || this.#ws) return;
    const ws = this.#opts.openSocket(FEED_DOCUMENT, token);
    this.#ws = ws;
    ws.onopen = () => {
      const resume: FeedResume = { type: 'resume', cursor };
      ws.send(encoder.encode(JSON.stringify(resume)));
      this.#listen(ws);
    };
    ws.onmessage = (event) => {
      if (this.#ws !== ws) return;
      this.#listen(ws);
      const changes = parseChanges(event.data);
      if (!changes) {
        this.#opts.onError(new ClientError('invalid_data', 'a user feed frame from the server did not parse'));
        return;
      }
      this.#attempt = 0;
      this.#renew = false;
      this.#opts.reached();
      // Nothing to apply, and its cursor is stored already (or will be, with the frame before it).
      if (isKeepalive(changes, this.#cursor)) return;
      this.#cursor = changes.cursor;
      this.#applying = this.#applying.then(() => this.#applyAndStore(changes));
    };
    ws.onclose = (event) => {
      if (this.#ws !== ws) return;
      this.#ws = null;
      this.#stopListening();
      this.#renew = event.code === CloseCode.Unauthorized;
      this.#retry();
    };
    ws.onerror = () => {};
  }

  async #applyAndStore(changes: FeedChanges): Promise<void> {
    try {
      await this.#opts.apply(changes);
      await this.#opts.store.putFeedCursor(changes.cursor);
    } catch (error) {
      this.#opts.onError(error instanceof ClientError ? error : new ClientError('storage_failed', String(error), error));
    }
  }

  #retry(): void {
    if (this.#closed || this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.connect();
    }, backoffDelay(this.#attempt++, this.#opts.backoff));
  }

  /** The server was heard on `ws` just now (or it opened): its silence is watched from now. */
  #listen(ws: WebSocketLike): void {
    this.#stopListening();
    this.#silence = watchSilence(ws, this.#opts.silenceMs ?? DEFAULT_SILENCE_MS, () => {
      if (this.#ws !== ws) return;
      // Closed as silent, the channel takes the dead shared socket down with it (SyncSocket).
      this.#drop(CloseCode.GoingAway, SILENT_CLOSE_REASON);
      this.#retry();
    });
  }

  #stopListening(): void {
    this.#silence?.();
    this.#silence = null;
  }

  #drop(code: number = CloseCode.Normal, reason = 'client closed'): void {
    this.#stopListening();
    const ws = this.#ws;
    this.#ws = null;
    if (!ws) return;
    ws.onopen = ws.onmessage = ws.onclose = null;
    ws.close(code, reason);
  }
}

function parseChanges(data: unknown): FeedChanges | null {
  const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : null;
  if (!bytes) return null;
  try {
    const parsed = FeedChangesSchema.safeParse(JSON.parse(utf8.decode(bytes)));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
