import type * as Y from 'yjs';
import { DEFAULT_SEARCH_RESULTS_PER_PAGE, MAX_SEARCH_QUERY_LENGTH, MAX_SEARCH_RESULTS_PER_PAGE, type MessageSearchResult } from '../../shared/models/messageSearch.ts';
import { ApiError, type RestClient } from '../api/RestClient.ts';
import { ClientError } from '../errors/ClientError.ts';
import type { LocalStore } from '../store/LocalStore.ts';
import { LocalSearchIndex, type LocalHit } from './LocalSearchIndex.ts';
import { MessageIndexer } from './MessageIndexer.ts';
import { formatSearchQuery, parseSearchQuery } from '../../shared/search/parseSearchQuery.ts';
import { QueryMatcher } from './QueryMatcher.ts';
import { groupByRoom, mergeHits, type SearchResults } from './SearchResults.ts';
import { StoredRoomsIndexer } from './StoredRoomsIndexer.ts';

export interface SearchOptions {
  /** Only this room. */
  readonly roomId?: string;
  /** Hits per page from the server, 1–50, default 20 (the first page adds up to as many found only on the device). */
  readonly limit?: number;
  /** The `nextCursor` of the previous page. */
  readonly cursor?: string;
  /** Aborts the server request; the search then rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /** The last word is a prefix while the text does not end in a space (a search-as-you-type box). Default false. */
  readonly asYouType?: boolean;
}

export interface MessageSearchDeps {
  readonly store: LocalStore;
  readonly rest: RestClient;
  /** The user's rooms as the room list has them, id -> name: the device's hits come from these only. */
  readonly rooms: () => ReadonlyMap<string, string | null>;
  /** Give up on the server after this long and answer from the device (ms). Default 5,000. */
  readonly serverTimeoutMs?: number;
}

/** A search being paged: what the device found (ranked once), where the server is, what was answered. */
interface Session {
  readonly id: string;
  readonly q: string;
  readonly roomId: string | undefined;
  readonly matcher: QueryMatcher;
  readonly local: readonly LocalHit[];
  readonly foundLocally: ReadonlySet<string>;
  readonly returned: Set<string>;
  page: number;
  serverCursor: string | null;
  serverDone: boolean;
}

/** Pages of searches kept for their cursors, the least recently used dropped first. */
const MAX_SESSIONS = 20;

/**
 * Message search on the SDK (docs/search.md, "Search on the device"): the device's index, kept
 * current from the room documents (MessageIndexer) and filled at start-up from what the device
 * stores (StoredRoomsIndexer), merged with GET /api/search when the server answers.
 */
export class MessageSearch {
  readonly index = new LocalSearchIndex();
  readonly #indexer = new MessageIndexer(this.index);
  readonly #stored: StoredRoomsIndexer;
  readonly #d: MessageSearchDeps;
  readonly #sessions = new Map<string, Session>();

  constructor(deps: MessageSearchDeps) {
    this.#d = deps;
    this.#stored = new StoredRoomsIndexer(deps.store, this.#indexer);
  }

  /** Follows a replica's document (a room or a segment) while it is loaded. */
  follow(docName: string, doc: Y.Doc): () => void {
    return this.#indexer.attach(docName, doc);
  }

  /** Starts the start-up pass over the stored rooms (in the background: it never rejects). */
  start(roomIds: readonly string[]): Promise<void> {
    return this.#stored.run(roomIds);
  }

  /** Drops a room from the index: the user left it or lost it. */
  dropRoom(roomId: string): void {
    this.#indexer.forgetRoom(roomId);
    this.index.removeRoom(roomId);
  }

  /** Reads a room again from the store after its stored data was replaced (local changes discarded). */
  async rescanRoom(roomId: string): Promise<void> {
    this.dropRoom(roomId);
    await this.#stored.room(roomId);
  }

  /** Whether the index is still catching up (the start-up pass, or changes waiting for a turn). */
  get indexing(): boolean {
    return this.#stored.running || this.#indexer.busy;
  }

  /** Resolves once the start-up pass is over and nothing waits for a turn (tests, benchmarks). */
  async idle(): Promise<void> {
    await this.#stored.run([]);
    await this.#indexer.idle();
  }

  async search(text: string, opts: SearchOptions = {}): Promise<SearchResults> {
    opts.signal?.throwIfAborted();
    const limit = opts.limit ?? DEFAULT_SEARCH_RESULTS_PER_PAGE;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_SEARCH_RESULTS_PER_PAGE) {
      throw new ClientError('invalid_payload', `limit must be an integer from 1 to ${MAX_SEARCH_RESULTS_PER_PAGE}`);
    }
    const session = opts.cursor === undefined ? this.#begin(text, opts) : this.#resume(opts.cursor);
    if (session === null) return { rooms: [], offline: false, indexing: this.indexing, nextCursor: null };

    let server: MessageSearchResult[] | null = [];
    let serverCursor = session.serverCursor;
    let serverDone = session.serverDone;
    if (!serverDone) {
      const answer = await this.#askServer(session, limit, opts.signal);
      if (answer === 'offline') server = null;
      else if (answer === 'none') serverDone = true;
      else {
        server = answer.results;
        serverCursor = answer.next_cursor;
        serverDone = answer.next_cursor === null;
      }
    }
    const offline = server === null;
    const fresh = (server ?? []).filter((r) => !session.returned.has(r.message_id) && !this.index.deleted(r.message_id));
    const onServerPage = new Set(fresh.map((r) => r.message_id));
    // The first page adds what only the device found; later pages add it once the server has no more, or offline.
    const budget = session.page === 0 ? limit : offline || serverDone ? Math.max(0, limit - fresh.length) : 0;
    const local = session.local.filter((h) => !session.returned.has(h.id) && !onServerPage.has(h.id)).slice(0, budget);
    const rooms = this.#d.rooms();
    const hits = mergeHits(
      {
        server: fresh,
        local,
        matcher: session.matcher,
        held: (id) => {
          const message = this.index.get(id);
          return message && rooms.has(message.roomId) ? message : null;
        },
      },
      session.foundLocally,
    );

    // Only now, with the page answered, does the session move on: an aborted page can be asked again.
    for (const hit of hits) session.returned.add(hit.messageId);
    session.page += 1;
    if (!offline) {
      session.serverCursor = serverCursor;
      session.serverDone = serverDone;
    }
    const localLeft = session.local.some((h) => !session.returned.has(h.id));
    const more = offline ? localLeft : !session.serverDone || localLeft;
    return {
      rooms: groupByRoom(hits, (roomId) => rooms.get(roomId) ?? null),
      offline,
      indexing: this.indexing,
      nextCursor: more ? `${session.id}.${session.page}` : null,
    };
  }

  async close(): Promise<void> {
    // Stop the pass first, then the indexer, which lets a stored read it was waiting on end now.
    const stopping = this.#stored.stop();
    this.#indexer.close();
    await stopping;
    this.#sessions.clear();
  }

  #begin(text: string, opts: SearchOptions): Session | null {
    if (text.length > MAX_SEARCH_QUERY_LENGTH) throw new ClientError('invalid_payload', `the search text is longer than ${MAX_SEARCH_QUERY_LENGTH} characters`);
    const terms = parseSearchQuery(text, { asYouType: opts.asYouType === true });
    const matcher = new QueryMatcher(terms);
    if (matcher.empty) return null;
    const rooms = this.#d.rooms();
    const { roomId } = opts;
    const local = this.index.search(matcher, { room: (id) => rooms.has(id) && (roomId === undefined || id === roomId) });
    const formatted = formatSearchQuery(terms);
    const session: Session = {
      id: crypto.randomUUID(),
      q: opts.asYouType && formatted.length <= MAX_SEARCH_QUERY_LENGTH ? formatted : text,
      roomId,
      matcher,
      local,
      foundLocally: new Set(local.map((h) => h.id)),
      returned: new Set(),
      page: 0,
      serverCursor: null,
      serverDone: false,
    };
    this.#sessions.set(session.id, session);
    for (const id of this.#sessions.keys()) {
      if (this.#sessions.size <= MAX_SESSIONS) break;
      this.#sessions.delete(id);
    }
    return session;
  }

  #resume(cursor: string): Session {
    const [id = '', page = ''] = cursor.split('.');
    const session = this.#sessions.get(id);
    if (!session || String(session.page) !== page) throw new ClientError('invalid_payload', 'the search cursor is unknown, expired or already used (search again)');
    // Most recently used last, so that it is dropped last.
    this.#sessions.delete(id);
    this.#sessions.set(id, session);
    return session;
  }

  /**
   * The server's page, 'offline' when it cannot give one (unreachable, timed out, failing, or an
   * answer that does not parse), 'none' when it has nothing for this query (a room the user is not
   * in, or a text it reads as nothing to search). The caller's abort rejects.
   */
  async #askServer(session: Session, limit: number, signal: AbortSignal | undefined): Promise<{ results: MessageSearchResult[]; next_cursor: string | null } | 'offline' | 'none'> {
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(new ClientError('network', 'the server did not answer the search in time')), this.#d.serverTimeoutMs ?? 5_000);
    const onAbort = (): void => timeout.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return await this.#d.rest.search(
        { q: session.q, ...(session.roomId === undefined ? {} : { roomId: session.roomId }), limit, cursor: session.serverCursor },
        timeout.signal,
      );
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (error instanceof ApiError && (error.status === 400 || error.status === 403 || error.status === 404)) return 'none';
      // Anything else (unreachable, timed out, a 5xx, an answer that does not parse, a token
      // provider that cannot reach the app's backend) leaves the device's answer, never an error.
      return 'offline';
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }
}
