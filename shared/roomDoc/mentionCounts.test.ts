import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { createMessage, deleteMessage } from './messageOps.ts';
import { mentionCount, mentionsAfter } from './mentionCounts.ts';
import { markRead } from './readOps.ts';
import { ALICE, BOB, CAROL, T0, alice, bob, carolAdmin, sent } from '../../test/support/roomDocFixtures.ts';

describe('mentionCount', () => {
  it('counts messages after my read position that mention me, by others, not deleted', () => {
    const doc = new Y.Doc();
    const first = sent(createMessage(doc, alice, { content: '@Bob one', mentionedUsers: [BOB], now: T0 }));
    sent(createMessage(doc, alice, { content: 'no mention', now: T0 + 1 }));
    const third = sent(createMessage(doc, carolAdmin, { content: '@Bob @Alice', mentionedUsers: [BOB, ALICE], now: T0 + 2 }));
    sent(createMessage(doc, bob, { content: 'me myself @Bob', mentionedUsers: [BOB], now: T0 + 3 }));
    expect(mentionCount(doc, BOB)).toBe(2);
    expect(mentionCount(doc, ALICE)).toBe(1);
    expect(mentionCount(doc, CAROL)).toBe(0);
    markRead(doc, bob, first);
    expect(mentionCount(doc, BOB)).toBe(1);
    deleteMessage(doc, carolAdmin, { id: third, now: T0 + 4 });
    expect(mentionCount(doc, BOB)).toBe(0);
    expect(mentionCount(doc, ALICE)).toBe(0);
  });

  it('follows edits that add or drop a mention, and stops at the cap', () => {
    const doc = new Y.Doc();
    const id = sent(createMessage(doc, alice, { content: 'hi', now: T0 }));
    expect(mentionCount(doc, BOB)).toBe(0);
    // An edit is a new whole value: here one that adds the mention, then one that drops it.
    const value = doc.getMap<Record<string, unknown>>('messages').get(id);
    doc.getMap('messages').set(id, { ...value, content: 'hi @Bob', editedAt: T0 + 1, mentionedUsers: [BOB] });
    expect(mentionCount(doc, BOB)).toBe(1);
    doc.getMap('messages').set(id, { ...value, editedAt: T0 + 2 });
    expect(mentionCount(doc, BOB)).toBe(0);
    for (let i = 1; i <= 5; i++) createMessage(doc, alice, { content: `@Bob ${i}`, mentionedUsers: [BOB], now: T0 + 10 + i });
    expect(mentionsAfter(doc, null, BOB, 3)).toBe(3);
    expect(mentionsAfter(doc, null, BOB)).toBe(5);
  });
});
