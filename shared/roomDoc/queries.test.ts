import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { roomMaps } from './layout.ts';
import { createMessage, deleteMessage, editMessage } from './messageOps.ts';
import { getMessage, lastMessage, listMessages, messageCount, unreadCount } from './queries.ts';
import { addReaction } from './reactionOps.ts';
import { markRead } from './readOps.ts';
import { ALICE, BOB, T0, alice, bob, exchange, sent, v7 } from '../../test/support/roomDocFixtures.ts';

/** `n` messages one second apart, created in the order given by `order` (default: ascending). */
function roomOf(n: number, order: (i: number) => number = (i) => i) {
  const doc = new Y.Doc();
  const ids = Array.from({ length: n }, (_, i) => v7(T0 + i * 1000, i));
  for (let k = 0; k < n; k++) {
    const i = order(k);
    const id = ids[i];
    if (id === undefined) throw new Error('order out of range');
    sent(createMessage(doc, i % 2 === 0 ? alice : bob, { id, content: `m${i}`, now: T0 + n * 1000 }));
  }
  return { doc, ids };
}

const contents = (page: { messages: ReadonlyArray<{ content: string }> }): string[] => page.messages.map((m) => m.content);
const range = (from: number, to: number): string[] => Array.from({ length: to - from }, (_, i) => `m${from + i}`);

describe('listMessages', () => {
  it('returns nothing for an empty room', () => {
    expect(listMessages(new Y.Doc(), { limit: 50 })).toEqual({ messages: [], hasMore: false });
  });

  it('orders by id (= createdAt, id), not by arrival', () => {
    const { doc } = roomOf(9, (k) => (k * 4) % 9);
    expect(contents(listMessages(doc, { limit: 50 }))).toEqual(range(0, 9));
  });

  it('breaks ties within one millisecond by id', () => {
    const doc = new Y.Doc();
    for (const tail of [3, 1, 2]) sent(createMessage(doc, alice, { id: v7(T0, tail), content: `t${tail}`, now: T0 }));
    expect(contents(listMessages(doc, { limit: 10 }))).toEqual(['t1', 't2', 't3']);
  });

  it('returns the newest `limit` in ascending order and says whether older ones exist', () => {
    const { doc } = roomOf(10);
    expect(listMessages(doc, { limit: 3 })).toMatchObject({ hasMore: true });
    expect(contents(listMessages(doc, { limit: 3 }))).toEqual(['m7', 'm8', 'm9']);
    expect(listMessages(doc, { limit: 9 }).hasMore).toBe(true);
    expect(listMessages(doc, { limit: 10 }).hasMore).toBe(false);
    expect(contents(listMessages(doc, { limit: 11 }))).toEqual(range(0, 10));
    expect(listMessages(doc, { limit: 11 }).hasMore).toBe(false);
    expect(contents(listMessages(doc, { limit: 1 }))).toEqual(['m9']);
  });

  it('pages strictly before beforeId', () => {
    const { doc, ids } = roomOf(10);
    const id = (i: number): string => ids[i] ?? '';
    expect(contents(listMessages(doc, { beforeId: id(5), limit: 3 }))).toEqual(['m2', 'm3', 'm4']);
    expect(listMessages(doc, { beforeId: id(5), limit: 3 }).hasMore).toBe(true);
    expect(contents(listMessages(doc, { beforeId: id(3), limit: 3 }))).toEqual(['m0', 'm1', 'm2']);
    expect(listMessages(doc, { beforeId: id(3), limit: 3 }).hasMore).toBe(false);
    expect(listMessages(doc, { beforeId: id(0), limit: 3 })).toEqual({ messages: [], hasMore: false });
    expect(contents(listMessages(doc, { beforeId: id(1), limit: 3 }))).toEqual(['m0']);
  });

  it('accepts a cursor that is not a message in the room', () => {
    const { doc } = roomOf(10);
    expect(contents(listMessages(doc, { beforeId: v7(T0 + 4500), limit: 2 }))).toEqual(['m3', 'm4']);
    expect(contents(listMessages(doc, { beforeId: v7(T0 + 99_000), limit: 2 }))).toEqual(['m8', 'm9']);
    expect(listMessages(doc, { beforeId: v7(T0 - 1), limit: 2 })).toEqual({ messages: [], hasMore: false });
  });

  it('walks the whole history page by page without gaps or duplicates', () => {
    const { doc } = roomOf(50, (k) => 49 - k);
    const seen: string[] = [];
    let beforeId: string | undefined;
    for (;;) {
      const page = listMessages(doc, { limit: 7, ...(beforeId === undefined ? {} : { beforeId }) });
      seen.unshift(...contents(page));
      beforeId = page.messages[0]?.id;
      if (!page.hasMore) break;
    }
    expect(seen).toEqual(range(0, 50));
  });

  it.each([0, -1, 1.5, Number.NaN])('throws on limit %s (a bug in the caller)', (limit) => {
    expect(() => listMessages(new Y.Doc(), { limit })).toThrow(RangeError);
  });

  it('includes deleted messages as emptied tombstones', () => {
    const { doc, ids } = roomOf(3);
    deleteMessage(doc, alice, { id: ids[0] ?? '', now: T0 + 10_000 });
    const [first] = listMessages(doc, { limit: 5 }).messages;
    expect(first).toMatchObject({ content: '', deletedBy: ALICE });
    expect(messageCount(doc)).toBe(3);
  });
});

describe('lastMessage, messageCount, unreadCount', () => {
  it('reports the newest message and the count', () => {
    expect(lastMessage(new Y.Doc())).toBeNull();
    expect(messageCount(new Y.Doc())).toBe(0);
    const { doc } = roomOf(4, (k) => 3 - k);
    expect(lastMessage(doc)?.content).toBe('m3');
    expect(messageCount(doc)).toBe(4);
  });

  it('counts messages after the read position that others sent and nobody deleted', () => {
    const { doc, ids } = roomOf(10);
    // alice sent the even ones, bob the odd ones.
    expect(unreadCount(doc, ALICE)).toBe(5);
    expect(unreadCount(doc, BOB)).toBe(5);
    markRead(doc, alice, ids[4] ?? '');
    expect(unreadCount(doc, ALICE)).toBe(3);
    deleteMessage(doc, bob, { id: ids[7] ?? '' });
    expect(unreadCount(doc, ALICE)).toBe(2);
    markRead(doc, alice, ids[9] ?? '');
    expect(unreadCount(doc, ALICE)).toBe(0);
  });
});

describe('the room index', () => {
  it('stays equal to a freshly built one through local and remote changes', () => {
    const local = new Y.Doc();
    const remote = new Y.Doc();
    for (let i = 0; i < 5; i++) sent(createMessage(local, alice, { id: v7(T0 + 3 + i * 100, 500 + i), content: `l${i}`, now: T0 + 5000 }));
    // Build the index now so every later change goes through the observers.
    expect(messageCount(local)).toBe(5);
    const ids: string[] = [];
    // Bulk arrival of many out-of-order messages, interleaved with the local ones: the merge path.
    for (let i = 0; i < 120; i++) ids.push(sent(createMessage(remote, bob, { id: v7(T0 + ((i * 37) % 120) * 10, i), content: `r${i}`, now: T0 + 5000 })));
    exchange(remote, local);
    for (let i = 5; i < 10; i++) sent(createMessage(local, alice, { id: v7(T0 + 3 + i * 100, 500 + i), content: `l${i}`, now: T0 + 5000 }));
    editMessage(remote, bob, { id: ids[3] ?? '', content: 'edited', now: T0 + 6000 });
    deleteMessage(remote, bob, { id: ids[4] ?? '', now: T0 + 6000 });
    addReaction(remote, alice, { messageId: ids[5] ?? '', reaction: '👍', now: T0 + 6000 });
    exchange(remote, local);
    // Many removals in one transaction exercise the filter path.
    local.transact(() => {
      for (const id of ids.slice(50, 100)) roomMaps(local).messages.delete(id);
    });
    roomMaps(local).messages.delete(ids[0] ?? '');
    const fresh = new Y.Doc();
    Y.applyUpdate(fresh, Y.encodeStateAsUpdate(local));
    const all = (doc: Y.Doc) => listMessages(doc, { limit: 1000 });
    expect(all(local)).toEqual(all(fresh));
    expect(all(local).messages).toHaveLength(130 - 51);
    expect(messageCount(local)).toBe(130 - 51);
    expect(messageCount(fresh)).toBe(130 - 51);
    expect(listMessages(local, { limit: 3 }).messages).toHaveLength(3);
    expect(getMessage(local, ids[3] ?? '')?.content).toBe('edited');
  });
});

describe('malformed values in a document', () => {
  function plant(doc: Y.Doc, good: string) {
    const { messages, deletions, reactions } = roomMaps(doc);
    const other = v7(T0 + 1, 1);
    messages.set(v7(T0 + 2, 2), { garbage: true });
    messages.set('not-an-id', { id: 'not-an-id' });
    messages.set(other, { id: v7(T0 + 3, 3), senderId: BOB, type: 'text', content: 'wrong key', meta: {}, createdAt: T0 + 3 });
    messages.set(v7(T0 + 4, 4), { id: v7(T0 + 4, 4), senderId: BOB, type: 'text', content: 'lies about time', meta: {}, createdAt: T0 });
    messages.set(v7(T0 + 5, 5), { id: v7(T0 + 5, 5), senderId: BOB, type: 'text', content: 'extra', meta: {}, createdAt: T0 + 5, html: '<b>' });
    messages.set(v7(T0 + 6, 6), { id: v7(T0 + 6, 6), senderId: BOB, type: 'system', content: 'fake system', meta: {}, createdAt: T0 + 6 });
    messages.set(v7(T0 + 7, 7), JSON.parse(`{"id":"${v7(T0 + 7, 7)}","senderId":"${BOB}","type":"text","content":"p","meta":{"__proto__":{"x":1}},"createdAt":${T0 + 7}}`));
    messages.set(v7(T0 + 8, 8), 'just a string');
    deletions.set(good, { deletedAt: 'yesterday', deletedBy: BOB });
    deletions.set('not-an-id', { deletedAt: T0, deletedBy: BOB });
    reactions.set(`${good}|${BOB}|👍`, 'soon');
    reactions.set(`${good}|${BOB}`, T0);
    reactions.set(`${good}|nobody|👍`, T0);
    reactions.set(`${good}|${ALICE}|__proto__`, T0);
    reactions.set(`${good}|${ALICE}|❤️`, T0);
  }

  it.each([
    ['before the index is built', true],
    ['after the index is built', false],
  ])('are skipped, not thrown on, when planted %s', (_when, plantFirst) => {
    const doc = new Y.Doc();
    const good = sent(createMessage(doc, alice, { id: v7(T0, 0), content: 'good', now: T0 }));
    if (plantFirst) plant(doc, good);
    // The first read builds the index; planting afterwards goes through its observers.
    expect(messageCount(doc)).toBe(1);
    if (!plantFirst) plant(doc, good);
    expect(messageCount(doc)).toBe(1);
    expect(contents(listMessages(doc, { limit: 50 }))).toEqual(['good']);
    expect(getMessage(doc, good)).toMatchObject({ deletedAt: null, reactions: { '❤️': [ALICE] } });
    expect(getMessage(doc, v7(T0 + 2, 2))).toBeNull();
    expect(getMessage(doc, v7(T0 + 7, 7))).toBeNull();
    expect(lastMessage(doc)?.content).toBe('good');
    expect(unreadCount(doc, BOB)).toBe(1);
    expect(markRead(doc, bob, v7(T0 + 4, 4))).toMatchObject({ ok: false, code: 'not_found' });
    expect(editMessage(doc, bob, { id: v7(T0 + 5, 5), content: 'x' })).toMatchObject({ ok: false, code: 'not_found' });
  });

  it('a value that becomes malformed later leaves the index, and comes back when repaired', () => {
    const doc = new Y.Doc();
    const id = sent(createMessage(doc, alice, { content: 'x', now: T0 }));
    expect(messageCount(doc)).toBe(1);
    const valid = roomMaps(doc).messages.get(id);
    roomMaps(doc).messages.set(id, { ...Object(valid), content: 42 });
    expect(messageCount(doc)).toBe(0);
    roomMaps(doc).messages.set(id, valid);
    expect(messageCount(doc)).toBe(1);
  });
});
