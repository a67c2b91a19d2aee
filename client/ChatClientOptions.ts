import type { ClientIdLocks } from './identity/ClientIdLocks.ts';
import type { CompactionPolicy } from './room/RoomReplica.ts';
import type { LocalStore } from './store/LocalStore.ts';
import type { BackgroundSyncOptions } from './sync/BackgroundSync.ts';
import type { BackoffOptions } from './sync/backoff.ts';
import type { TokenProvider } from './sync/RoomConnection.ts';
import type { WebSocketConstructor } from './sync/WebSocketLike.ts';
import type { SendUpload } from './attachments/AttachmentTransfer.ts';

export interface ChatClientOptions {
  /** http(s)://host:port of the Parley server (REST under /api, sync under /sync). */
  readonly serverUrl: string;
  /**
   * Returns a token for the user (a JWT minted by the app's backend). Called before each
   * connection and REST call; `renew: true` after the server refused the last one (4401 / 401).
   * Offline, it may return the last token it had: the client reads who the user is from it.
   */
  readonly getToken: TokenProvider;
  /** Where to keep everything; default: DexieLocalStore on IndexedDB named `dbName`. */
  readonly store?: LocalStore;
  /** Default `parley:<userId>`: one database per user, so users of one browser never mix. */
  readonly dbName?: string;
  /** IndexedDB implementation for the default store (`fake-indexeddb` in Node). */
  readonly indexedDB?: IDBFactory;
  readonly IDBKeyRange?: typeof IDBKeyRange;
  /** Default: the global WebSocket (pass the `ws` package in Node 20). */
  readonly WebSocket?: WebSocketConstructor;
  /**
   * Sync every room over one WebSocket per client (`/ws/sync`, a channel per room). Default true;
   * `false` opens a socket per room on `/sync/<roomId>`, as stock y-websocket clients do.
   */
  readonly multiplex?: boolean;
  /** How attachment uploads are sent; default XMLHttpRequest in browsers (for progress), else `fetch`. */
  readonly sendUpload?: SendUpload;
  readonly fetch?: typeof fetch;
  /** Default: the Web Locks API, else locks shared within this JavaScript realm. */
  readonly locks?: ClientIdLocks;
  /** Reconnect backoff of every room connection. Default 250 ms doubling to 30 s, with jitter. */
  readonly reconnect?: BackoffOptions;
  /** Rooms not opened in the foreground; `enabled: false` turns background sync off. */
  readonly background?: BackgroundSyncOptions & { readonly enabled?: boolean; readonly timeoutMs?: number };
  readonly compaction?: CompactionPolicy;
  /** Typing clears itself after this long without a startTyping() call. Default 5,000 ms. */
  readonly typingTimeoutMs?: number;
  /** The clock for message ids and timestamps, used as it is (tests); without it, `deviceClock` corrected by the server's. */
  readonly now?: () => number;
  /**
   * The device's own clock (default Date.now). Ids and timestamps are minted on it plus the
   * offset measured from the `Date` header of REST answers (api/ServerClock.ts), so a device whose
   * clock is off by hours still writes messages the server accepts and that sort where they were
   * written. Tests give a wrong one.
   */
  readonly deviceClock?: () => number;
  /** Ask the browser not to evict the database (navigator.storage.persist()). Default true. */
  readonly requestPersistentStorage?: boolean;
  /**
   * Largest sync frame sent, in bytes; keep it under the server's PARLEY_MAX_FRAME_BYTES. An
   * offline backlog or a large burst goes out as several updates under it. Default 512 KiB.
   */
  readonly maxFrameBytes?: number;
  /**
   * Older sealed segments (history paged in) are applied as they download at most `budgetMs`
   * (default 4) of every 16.7 ms, and in a browser only in its idle time (requestIdleCallback),
   * so a page scrolling through them keeps its frames; the head,
   * the open segment and the newest sealed one never wait. Default: on where there is a
   * `document` (a web page), off elsewhere; `false` turns it off.
   */
  readonly pacedHistory?: boolean | { readonly budgetMs?: number };
}
