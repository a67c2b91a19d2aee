import { beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { createMessage } from '../../shared/roomDoc/messageOps.ts';
import { getMessage, lastMessage, listMessages, messageCount, unreadCount } from '../../shared/roomDoc/queries.ts';
import { markRead } from '../../shared/roomDoc/readOps.ts';
import { ALICE, T0, alice, bob, sent, v7 } from './fixtures.ts';

/*
 * Rooms of 100,000 messages. The bounds are loose on purpose (a slow CI machine must pass), yet
 * each is far below what the naive version costs: sorting 100k ids per page takes tens of ms, so
 * 2,000 pages would take a minute, not a second.
 */
const N = 100_000;

function bigRoom(): { doc: Y.Doc; ids: string[] } {
  const source = new Y.Doc();
  const ids: string[] = [];
  source.transact(() => {
    for (let i = 0; i < N; i++) {
      const actor = i % 3 === 0 ? bob : alice;
      ids.push(sent(createMessage(source, actor, { id: v7(T0 + i * 1000, i), content: `message ${i} `.padEnd(80, '.'), now: T0 + N * 1000 })));
    }
  });
  // A client loads a room from storage or the network in one update.
  const doc = new Y.Doc();
  Y.applyUpdate(doc, Y.encodeStateAsUpdate(source));
  return { doc, ids };
}

const timed = <T>(fn: () => T): { result: T; ms: number } => {
  const start = performance.now();
  const result = fn();
  return { result, ms: performance.now() - start };
};

describe('a room of 100,000 messages', () => {
  let doc: Y.Doc;
  let ids: string[];
  beforeAll(() => {
    ({ doc, ids } = bigRoom());
  });

  it('builds the index once, then pages in O(log n + limit)', () => {
    const first = timed(() => listMessages(doc, { limit: 50 }));
    expect(first.result.messages.map((m) => m.id)).toEqual(ids.slice(-50));
    expect(first.ms).toBeLessThan(5_000);
    const pages = timed(() => {
      let total = 0;
      for (let i = 0; i < 2_000; i++) {
        const beforeId = ids[(i * 7919) % N] ?? '';
        total += listMessages(doc, { beforeId, limit: 50 }).messages.length;
      }
      return total;
    });
    expect(pages.result).toBeGreaterThan(1_900 * 50);
    expect(pages.ms).toBeLessThan(2_000);
  });

  it('keeps the index up to date cheaply as messages arrive', () => {
    const appends = timed(() => {
      for (let i = 0; i < 1_000; i++) sent(createMessage(doc, bob, { id: v7(T0 + (N + i) * 1000, i), content: `new ${i}`, now: T0 + (N + i) * 1000 }));
    });
    expect(messageCount(doc)).toBe(N + 1_000);
    expect(lastMessage(doc)?.content).toBe('new 999');
    expect(appends.ms).toBeLessThan(3_000);
    const middle = ids[N / 2] ?? '';
    expect(getMessage(doc, middle)?.content.startsWith(`message ${N / 2} `)).toBe(true);
  });

  it('counts unread messages from the read position on', () => {
    const count = timed(() => unreadCount(doc, ALICE));
    // Bob sent every third message and the 1,000 new ones.
    expect(count.result).toBe(Math.ceil(N / 3) + 1_000);
    expect(count.ms).toBeLessThan(2_000);
    markRead(doc, alice, ids[N - 300] ?? '');
    const bobsAfter = Array.from({ length: 299 }, (_, k) => N - 299 + k).filter((i) => i % 3 === 0).length;
    expect(unreadCount(doc, ALICE)).toBe(bobsAfter + 1_000);
  });
});
