import { beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { roomMaps } from './layout.ts';
import { createMessage, deleteMessage } from './messageOps.ts';
import { getMessage, lastMessage, listMessages, messageCount, unreadCount } from './queries.ts';
import { markRead } from './readOps.ts';
import { ALICE, T0, alice, bob, docWithClient, sent, v7 } from '../../test/support/roomDocFixtures.ts';

/*
 * Behaviour of a large room: the index must page, update and count right across the whole range.
 * Behaviour only: speed and memory are measured by bench/scenarios/roomDocQueries.ts (npm run bench).
 * 20,000 messages is large enough for real binary searches, batched merges and mid-array splices.
 */
const N = 20_000;
const PAGE = 50;

/** Message i: one second apart, every third one from Bob. */
const idOf = (i: number): string => v7(T0 + i * 1000, i);
const contentOf = (i: number): string => `message ${i} `.padEnd(80, '.');
/** An id that sorts between messages i - 1 and i, in none of them. */
const between = (i: number, tail: number): string => v7(T0 + i * 1000 - 500, tail);
/** The clock of every write: after every message, so no id is in the future. */
const LATER = T0 + 10 * N * 1000;

let update: Uint8Array;
let ids: string[];

beforeAll(() => {
  const source = new Y.Doc();
  ids = [];
  source.transact(() => {
    for (let i = 0; i < N; i++) ids.push(sent(createMessage(source, i % 3 === 0 ? bob : alice, { id: idOf(i), content: contentOf(i), now: LATER })));
  });
  update = Y.encodeStateAsUpdate(source);
});

/** A client loading the room from storage or the network in one update; each test gets its own. */
function loadRoom(): Y.Doc {
  const doc = new Y.Doc();
  Y.applyUpdate(doc, update);
  return doc;
}

const pageIds = (doc: Y.Doc, beforeId?: string): string[] =>
  listMessages(doc, beforeId === undefined ? { limit: PAGE } : { beforeId, limit: PAGE }).messages.map((m) => m.id);

/** What the index holds, in display order. */
const indexedIds = (doc: Y.Doc): string[] => listMessages(doc, { limit: Math.max(1, messageCount(doc)) }).messages.map((m) => m.id);

/** What a from-scratch index would hold: every message key in the document, sorted. */
const sortedKeys = (doc: Y.Doc): string[] => [...roomMaps(doc).messages.keys()].sort();

/** How many of `ids` are < `cursor`: a linear count, deliberately independent of the index's binary search. */
const countBelow = (ids: readonly string[], cursor: string): number => ids.filter((id) => id < cursor).length;

/** Pages at `cursors` equal the PAGE ids of `expected` (sorted) just below each cursor. */
function expectPagesMatch(doc: Y.Doc, expected: readonly string[], cursors: readonly string[]): void {
  for (const cursor of cursors) {
    const end = countBelow(expected, cursor);
    const page = listMessages(doc, { beforeId: cursor, limit: PAGE });
    expect(page.messages.map((m) => m.id), `before ${cursor}`).toEqual(expected.slice(Math.max(0, end - PAGE), end));
    expect(page.hasMore, `hasMore before ${cursor}`).toBe(end > PAGE);
  }
}

describe(`a room of ${N.toLocaleString('en-US')} messages`, () => {
  it('pages back from the newest message to the oldest, each message once and in order', () => {
    const doc = loadRoom();
    const seen: string[] = [];
    let page = listMessages(doc, { limit: PAGE });
    let pages = 1;
    expect(page.messages.map((m) => m.id)).toEqual(ids.slice(-PAGE));
    seen.unshift(...page.messages.map((m) => m.id));
    while (page.hasMore) {
      const oldest = page.messages[0];
      if (!oldest) throw new Error('a page with hasMore must not be empty');
      page = listMessages(doc, { beforeId: oldest.id, limit: PAGE });
      expect(page.messages).toHaveLength(PAGE);
      seen.unshift(...page.messages.map((m) => m.id));
      pages++;
    }
    expect(pages).toBe(N / PAGE);
    expect(seen).toEqual(ids);
    expect(getMessage(doc, idOf(N / 2))?.content).toBe(contentOf(N / 2));
  });

  it('returns the page below any cursor, whether or not a message has that id', () => {
    const doc = loadRoom();
    const positions = Array.from({ length: 500 }, (_, k) => (k * 7919) % N);
    expectPagesMatch(doc, ids, [
      ...positions.map(idOf),
      ...positions.map((i) => between(i, 0xabcde)),
      v7(T0 - 1),
      idOf(0),
      idOf(PAGE),
      idOf(PAGE + 1),
      between(PAGE + 1, 1),
      v7(LATER, 0),
    ]);
    expect(pageIds(doc, v7(T0 - 1))).toEqual([]);
    expect(pageIds(doc, v7(LATER, 0))).toEqual(ids.slice(-PAGE));
  });

  it('keeps the index equal to a from-scratch sort as messages arrive in and out of order', () => {
    const doc = loadRoom();
    expect(indexedIds(doc)).toEqual(ids);
    const expected = new Set(ids);
    const check = (): void => {
      const sorted = [...expected].sort();
      expect(sortedKeys(doc)).toEqual(sorted);
      expect(indexedIds(doc)).toEqual(sorted);
    };

    // New messages, one transaction each: appended at the end.
    for (let k = 0; k < 500; k++) expected.add(sent(createMessage(doc, bob, { id: idOf(N + k), content: `new ${k}`, now: LATER })));
    check();

    // Late messages from an offline device, one at a time: each lands somewhere in the middle.
    for (let k = 0; k < 300; k++) {
      expected.add(sent(createMessage(doc, alice, { id: between((k * 7919) % N, 1_000 + k), content: `late ${k}`, now: LATER })));
    }
    check();

    // Many late messages in one transaction: merged in as a batch.
    doc.transact(() => {
      for (let k = 0; k < 200; k++) {
        expected.add(sent(createMessage(doc, bob, { id: between((k * 104729) % N, 2_000 + k), content: `batch ${k}`, now: LATER })));
      }
    });
    check();

    // The same, arriving from another replica in one update, plus a small one (below the batch size).
    for (const count of [400, 5]) {
      const peer = docWithClient(7_000 + count);
      for (let k = 0; k < count; k++) {
        expected.add(sent(createMessage(peer, alice, { id: between((k * 15_485_863 + count) % N, 3_000 + count + k), content: `peer ${k}`, now: LATER })));
      }
      Y.applyUpdate(doc, Y.encodeStateAsUpdate(peer));
      check();
    }

    // Re-sending an existing message changes nothing.
    sent(createMessage(doc, bob, { id: idOf(0), content: contentOf(0), now: LATER }));
    check();

    expect(messageCount(doc)).toBe(N + 500 + 300 + 200 + 405);
    const sorted = [...expected].sort();
    const positions = Array.from({ length: 200 }, (_, k) => (k * 7919) % sorted.length);
    expectPagesMatch(doc, sorted, [...positions.map((p) => sorted[p] ?? ''), ...positions.map((i) => between(i, 0xfffff))]);
    // A client loading the result from scratch sees the same room.
    const fresh = new Y.Doc();
    Y.applyUpdate(fresh, Y.encodeStateAsUpdate(doc));
    expect(indexedIds(fresh)).toEqual(sorted);
  });

  it('counts unread messages from the read position on and finds the last message', () => {
    const doc = loadRoom();
    // Bob sent every third message.
    expect(unreadCount(doc, ALICE)).toBe(Math.ceil(N / 3));
    expect(lastMessage(doc)?.id).toBe(ids[N - 1]);

    const readUpTo = N - 300;
    expect(markRead(doc, alice, idOf(readUpTo))).toMatchObject({ ok: true, moved: true });
    const bobsAfter = Array.from({ length: N - 1 - readUpTo }, (_, k) => readUpTo + 1 + k).filter((i) => i % 3 === 0).length;
    expect(unreadCount(doc, ALICE)).toBe(bobsAfter);

    // Bob's new message counts; Alice's own does not; a late one of Bob's before the read position does not.
    const fromBob = sent(createMessage(doc, bob, { id: idOf(N), content: 'from bob', now: LATER }));
    expect(unreadCount(doc, ALICE)).toBe(bobsAfter + 1);
    expect(lastMessage(doc)?.content).toBe('from bob');
    sent(createMessage(doc, alice, { id: idOf(N + 1), content: 'from alice', now: LATER }));
    sent(createMessage(doc, bob, { id: between(readUpTo - 10, 1), content: 'late from bob', now: LATER }));
    expect(unreadCount(doc, ALICE)).toBe(bobsAfter + 1);
    expect(lastMessage(doc)?.content).toBe('from alice');

    // A deleted message is not unread, yet stays the last message (deleted).
    const bobsLast = idOf(N - 1 - ((N - 1) % 3));
    sent(createMessage(doc, bob, { id: idOf(N + 2), content: 'oops', now: LATER }));
    expect(deleteMessage(doc, bob, { id: idOf(N + 2), now: LATER })).toEqual({ ok: true });
    expect(deleteMessage(doc, bob, { id: bobsLast, now: LATER })).toEqual({ ok: true });
    expect(unreadCount(doc, ALICE)).toBe(bobsAfter);
    expect(lastMessage(doc)).toMatchObject({ id: idOf(N + 2), content: '', deletedBy: bob.userId });
    expect(unreadCount(doc, bob.userId)).toBe(N - Math.ceil(N / 3) + 1);

    // Reading up to the newest message clears the count.
    markRead(doc, alice, idOf(N + 2));
    expect(unreadCount(doc, ALICE)).toBe(0);
    expect(fromBob).toBe(idOf(N));
  });
});
