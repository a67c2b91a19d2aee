import MiniSearch, { type Query, type SearchResult } from 'minisearch';
import type { QueryMatcher } from './QueryMatcher.ts';
import { foldTerm, searchTokens } from './searchTokens.ts';

/** A message as the device's index holds it (the text is kept too: snippets are cut from it). */
export interface IndexedMessage {
  /** The message id. */
  readonly id: string;
  readonly roomId: string;
  readonly senderId: string | null;
  readonly content: string;
  /** ms since the epoch. */
  readonly createdAt: number;
}

/** A message found, with MiniSearch's score (higher is better; only comparable within one search). */
export interface LocalHit extends IndexedMessage {
  readonly score: number;
}

export interface LocalSearchOptions {
  /** Only messages of rooms this accepts (the user's rooms; one room). */
  readonly room?: (roomId: string) => boolean;
  /** Most hits answered, best first. Default 1,000 (the server's ranked window). */
  readonly limit?: number;
}

/** Search answers at most this many hits, like the server's ranked window (docs/search.md). */
const MAX_HITS = 1_000;

/**
 * The device's full-text index of the messages it holds: MiniSearch (docs/search.md, "Search on
 * the device", says why), one entry per message id, its words split and folded the server's way
 * (searchTokens.ts). Entries are added, replaced when their text changes, and discarded (MiniSearch
 * cleans a discarded entry out of its word lists lazily, in the background). It also remembers
 * which messages it saw deleted, so that a server hit for one of them (the server indexes about
 * 100 ms after a commit) is not shown.
 */
export class LocalSearchIndex {
  readonly #search = new MiniSearch<IndexedMessage>({
    fields: ['content'],
    storeFields: ['roomId', 'senderId', 'content', 'createdAt'],
    tokenize: (text) => searchTokens(text).map((t) => text.slice(t.start, t.end)),
    processTerm: (term) => foldTerm(term) || null,
  });
  /** Room id -> ids of its messages in the index. */
  readonly #byRoom = new Map<string, Set<string>>();
  /** Message id -> room id of messages seen deleted. */
  readonly #deleted = new Map<string, string>();

  get size(): number {
    return this.#search.documentCount;
  }

  has(id: string): boolean {
    return this.#search.has(id);
  }

  get(id: string): IndexedMessage | null {
    const stored = this.#search.getStoredFields(id);
    return stored ? toMessage(id, stored) : null;
  }

  /** Whether the message was seen deleted here (and not written again since). */
  deleted(id: string): boolean {
    return this.#deleted.has(id);
  }

  /** Adds the message, or replaces it when its text or place changed. */
  put(message: IndexedMessage): void {
    this.#deleted.delete(message.id);
    const held = this.get(message.id);
    if (held && held.content === message.content && held.roomId === message.roomId && held.senderId === message.senderId) return;
    if (held) {
      this.#byRoom.get(held.roomId)?.delete(message.id);
      this.#search.replace(message);
    } else {
      this.#search.add(message);
    }
    const ids = this.#byRoom.get(message.roomId) ?? new Set<string>();
    ids.add(message.id);
    this.#byRoom.set(message.roomId, ids);
  }

  /** Drops the message; `deleted`: because it was deleted (remembered, see the class). */
  remove(id: string, { deleted = false, roomId }: { readonly deleted?: boolean; readonly roomId?: string } = {}): void {
    const held = this.get(id);
    if (held) {
      this.#search.discard(id);
      this.#byRoom.get(held.roomId)?.delete(id);
    }
    const room = held?.roomId ?? roomId;
    if (deleted && room !== undefined) this.#deleted.set(id, room);
  }

  /** Drops every message of a room (the user left it or was removed). Answers how many. */
  removeRoom(roomId: string): number {
    const ids = this.#byRoom.get(roomId);
    this.#byRoom.delete(roomId);
    for (const [id, room] of this.#deleted) if (room === roomId) this.#deleted.delete(id);
    if (!ids || ids.size === 0) return 0;
    this.#search.discardAll([...ids]);
    return ids.size;
  }

  /** Rooms with messages in the index. */
  rooms(): string[] {
    return [...this.#byRoom].filter(([, ids]) => ids.size > 0).map(([roomId]) => roomId);
  }

  /**
   * Messages matching every term (phrases in order), best first, ties newest first. MiniSearch
   * finds the messages holding every word (prefixes where asked); the matcher then keeps those
   * where each phrase stands in order.
   */
  search(matcher: QueryMatcher, { room, limit = MAX_HITS }: LocalSearchOptions = {}): LocalHit[] {
    if (matcher.empty) return [];
    const query: Query = {
      combineWith: 'AND',
      queries: matcher.terms.map((term) => ({
        queries: [term.text],
        combineWith: 'AND',
        // A prefix applies to the last word of a term ("big de"* is "big" then "de…").
        prefix: term.prefix ? (_word: string, i: number, words: string[]) => i === words.length - 1 : false,
      })),
    };
    const results = this.#search.search(query, room ? { filter: (r) => room(String(r['roomId'])) } : {});
    const hits: LocalHit[] = [];
    for (const result of results) {
      const message = toMessage(String(result.id), result);
      if (matcher.holds(message.content)) hits.push({ ...message, score: result.score });
    }
    hits.sort((a, b) => b.score - a.score || b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1));
    return hits.slice(0, Math.min(limit, MAX_HITS));
  }
}

function toMessage(id: string, stored: Record<string, unknown> | SearchResult): IndexedMessage {
  return {
    id,
    roomId: String(stored['roomId']),
    senderId: typeof stored['senderId'] === 'string' ? stored['senderId'] : null,
    content: String(stored['content']),
    createdAt: Number(stored['createdAt']),
  };
}
