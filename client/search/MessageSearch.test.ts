import { describe, expect, it } from 'vitest';
import type { MessageSearchResult } from '../../shared/models/messageSearch.ts';
import { ALICE, T0, v7 } from '../../test/support/roomDocFixtures.ts';
import { RestClient } from '../api/RestClient.ts';
import { ClientError } from '../errors/ClientError.ts';
import { MemoryLocalStore } from '../store/MemoryLocalStore.ts';
import { MessageSearch } from './MessageSearch.ts';
import type { SearchResults } from './SearchResults.ts';

/* Paging, merging and failures of MessageSearch against a scripted GET /api/search. */

const ROOM = '0195f3b2-0000-7000-8000-00000000000a';
const OTHER = '0195f3b2-0000-7000-8000-00000000000b';
const ids = Array.from({ length: 6 }, (_, i) => v7(T0 + i, i + 1));
const serverHit = (id: string, roomId = ROOM): MessageSearchResult => ({
  room_id: roomId,
  message_id: id,
  sender_id: ALICE,
  created_at: new Date(T0).toISOString(),
  snippet: `server text of ${id.slice(-4)} <b>`,
  highlights: [[0, 6]],
});

type Answer = { results: MessageSearchResult[]; next_cursor: string | null } | 'down' | 'hang' | number;

function searchWith(answers: Answer[]): { search: MessageSearch; asked: URL[] } {
  const asked: URL[] = [];
  const fetchImpl = (async (input: string, init?: RequestInit): Promise<Response> => {
    asked.push(new URL(input));
    const answer = answers.shift() ?? { results: [], next_cursor: null };
    if (answer === 'down') throw new TypeError('fetch failed');
    if (answer === 'hang') {
      return new Promise((_, reject) => {
        if (init?.signal?.aborted) reject(init.signal.reason);
        init?.signal?.addEventListener('abort', () => reject(init.signal?.reason));
      });
    }
    if (typeof answer === 'number') return new Response(JSON.stringify({ error: { code: 'internal', message: 'boom' } }), { status: answer });
    return new Response(JSON.stringify(answer), { status: 200, headers: { 'content-type': 'application/json' } });
  }) as typeof fetch;
  const rest = new RestClient('http://server', () => 'token', fetchImpl);
  const search = new MessageSearch({ store: new MemoryLocalStore(), rest, rooms: () => new Map([[ROOM, 'General'], [OTHER, null]]), serverTimeoutMs: 200 });
  // ids[0..2] on the device; ids[2] matches "budget" there too.
  search.index.put({ id: ids[0]!, roomId: ROOM, senderId: ALICE, content: 'budget draft', createdAt: T0 });
  search.index.put({ id: ids[1]!, roomId: ROOM, senderId: ALICE, content: 'budget written offline', createdAt: T0 + 1 });
  search.index.put({ id: ids[2]!, roomId: OTHER, senderId: ALICE, content: 'the budget, edited here', createdAt: T0 + 2 });
  return { search, asked };
}

const order = (results: SearchResults): Array<[string, string]> => results.rooms.flatMap((r) => r.hits.map((h): [string, string] => [h.messageId, h.source]));

describe('MessageSearch', () => {
  it('pages: the server ranks first, the first page adds what only the device found, no message comes twice', async () => {
    const { search, asked } = searchWith([
      { results: [serverHit(ids[3]!), serverHit(ids[2]!, OTHER)], next_cursor: '2' },
      { results: [serverHit(ids[0]!), serverHit(ids[4]!)], next_cursor: null },
    ]);
    const first = await search.search('budget', { limit: 2 });
    expect(asked[0]?.searchParams.get('q')).toBe('budget');
    expect(asked[0]?.searchParams.get('limit')).toBe('2');
    expect(first.offline).toBe(false);
    // Grouped by room in the order of their best hit. ids[2] found by both: the device's (newer)
    // text is its snippet. After the server's, the device's own, best first (the shorter text).
    expect(order(first)).toEqual([
      [ids[3], 'server'],
      [ids[0], 'local'],
      [ids[1], 'local'],
      [ids[2], 'both'],
    ]);
    expect(first.rooms.map((r) => [r.roomId, r.roomName])).toEqual([
      [ROOM, 'General'],
      [OTHER, null],
    ]);
    expect(first.rooms[1]?.hits[0]?.segments).toEqual([{ text: 'the ', match: false }, { text: 'budget', match: true }, { text: ', edited here', match: false }]);
    expect(first.rooms[0]?.hits[0]?.segments).toEqual([{ text: 'server', match: true }, { text: ` text of ${ids[3]!.slice(-4)} <b>`, match: false }]);
    expect(first.nextCursor).not.toBeNull();

    const second = await search.search('budget', { limit: 2, cursor: first.nextCursor! });
    expect(asked[1]?.searchParams.get('cursor')).toBe('2');
    expect(order(second)).toEqual([[ids[4], 'server']]);
    expect(second.nextCursor).toBeNull();
    // A cursor is used once.
    await expect(search.search('budget', { cursor: first.nextCursor! })).rejects.toMatchObject({ code: 'invalid_payload' });
  });

  it('offline, timed out or failing: the device answers alone with offline: true, paged by its own cursor', async () => {
    for (const failure of ['down', 'hang', 503] as const) {
      const { search } = searchWith([failure, failure]);
      const first = await search.search('budget', { limit: 2 });
      expect(first.offline).toBe(true);
      expect(order(first)).toEqual([
        [ids[0], 'local'],
        [ids[1], 'local'],
      ]);
      const second = await search.search('budget', { limit: 2, cursor: first.nextCursor! });
      expect(order(second)).toEqual([[ids[2], 'local']]);
      expect(second.nextCursor).toBeNull();
    }
  });

  it('a server hit for a message deleted on the device is left out; a room filter and as-you-type reach the server', async () => {
    const { search, asked } = searchWith([{ results: [serverHit(ids[1]!), serverHit(ids[5]!)], next_cursor: null }]);
    search.index.remove(ids[1]!, { deleted: true });
    const results = await search.search('budg', { roomId: ROOM, asYouType: true });
    expect(asked[0]?.searchParams.get('q')).toBe('budg*');
    expect(asked[0]?.searchParams.get('room_id')).toBe(ROOM);
    expect(order(results)).toEqual([
      [ids[5], 'server'],
      [ids[0], 'local'],
    ]);
  });

  it("the caller's abort rejects with its reason; nothing to search answers nothing without asking", async () => {
    const { search, asked } = searchWith(['hang']);
    const controller = new AbortController();
    const pending = search.search('budget', { signal: controller.signal });
    controller.abort(new Error('typed on'));
    await expect(pending).rejects.toThrow('typed on');
    expect(await search.search(' "" * ')).toEqual({ rooms: [], offline: false, indexing: false, nextCursor: null });
    expect(asked).toHaveLength(1);
    await expect(search.search('x'.repeat(201))).rejects.toBeInstanceOf(ClientError);
  });
});
