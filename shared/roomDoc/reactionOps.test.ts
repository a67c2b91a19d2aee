import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { reactionKey, roomMaps } from './layout.ts';
import { createMessage, deleteMessage } from './messageOps.ts';
import { getMessage } from './queries.ts';
import { addReaction, removeReaction } from './reactionOps.ts';
import { ALICE, BOB, CAROL, T0, alice, bob, carolAdmin, docWithClient, sent, stateVectorOf, syncAll, v7 } from '../../test/support/roomDocFixtures.ts';

function room() {
  const doc = new Y.Doc();
  const id = sent(createMessage(doc, alice, { content: 'react to me', now: T0 }));
  return { doc, id };
}

describe('addReaction / removeReaction', () => {
  it('groups users by reaction, ordered by reaction time then user id', () => {
    const { doc, id } = room();
    addReaction(doc, carolAdmin, { messageId: id, reaction: '👍', now: T0 + 5 });
    addReaction(doc, bob, { messageId: id, reaction: '👍', now: T0 + 5 });
    addReaction(doc, alice, { messageId: id, reaction: '👍', now: T0 + 9 });
    addReaction(doc, alice, { messageId: id, reaction: '+1', now: T0 + 1 });
    const reactions = getMessage(doc, id)?.reactions;
    expect(reactions).toEqual({ '+1': [ALICE], '👍': [BOB, CAROL, ALICE] });
    expect(Object.keys(reactions ?? {})).toEqual(['+1', '👍']);
  });

  it('stores one flat key per (message, user, reaction) with the time as value', () => {
    const { doc, id } = room();
    addReaction(doc, bob, { messageId: id, reaction: '🎉', now: T0 + 3 });
    expect(roomMaps(doc).reactions.toJSON()).toEqual({ [`${id}|${BOB}|🎉`]: T0 + 3 });
  });

  it('is idempotent: adding twice keeps the first time and writes nothing', () => {
    const { doc, id } = room();
    addReaction(doc, bob, { messageId: id, reaction: '👍', now: T0 + 3 });
    const before = stateVectorOf(doc);
    expect(addReaction(doc, bob, { messageId: id, reaction: '👍', now: T0 + 8 })).toEqual({ ok: true });
    expect(stateVectorOf(doc)).toBe(before);
    expect(roomMaps(doc).reactions.get(reactionKey({ messageId: id, userId: BOB, reaction: '👍' }))).toBe(T0 + 3);
  });

  it('removes only the actor’s own reaction; removing an absent one is ok', () => {
    const { doc, id } = room();
    addReaction(doc, alice, { messageId: id, reaction: '👍', now: T0 });
    addReaction(doc, bob, { messageId: id, reaction: '👍', now: T0 });
    expect(removeReaction(doc, alice, { messageId: id, reaction: '👍' })).toEqual({ ok: true });
    expect(removeReaction(doc, alice, { messageId: id, reaction: '👍' })).toEqual({ ok: true });
    expect(removeReaction(doc, carolAdmin, { messageId: id, reaction: '👍' })).toEqual({ ok: true });
    expect(getMessage(doc, id)?.reactions).toEqual({ '👍': [BOB] });
  });

  it.each(['', 'a|b', 'x'.repeat(33), 'tab\there', '__proto__', 'constructor'])('refuses the reaction %j', (reaction) => {
    const { doc, id } = room();
    expect(addReaction(doc, bob, { messageId: id, reaction })).toMatchObject({ ok: false, code: 'invalid_payload' });
    expect(roomMaps(doc).reactions.size).toBe(0);
  });

  it('answers not_found for unknown messages and deleted for deleted ones, and hides old reactions', () => {
    const { doc, id } = room();
    addReaction(doc, bob, { messageId: id, reaction: '👍', now: T0 });
    expect(addReaction(doc, bob, { messageId: v7(T0, 77), reaction: '👍' })).toMatchObject({ code: 'not_found' });
    expect(removeReaction(doc, bob, { messageId: v7(T0, 77), reaction: '👍' })).toMatchObject({ code: 'not_found' });
    deleteMessage(doc, alice, { id });
    expect(addReaction(doc, bob, { messageId: id, reaction: '❤️' })).toMatchObject({ code: 'deleted' });
    expect(removeReaction(doc, bob, { messageId: id, reaction: '👍' })).toMatchObject({ code: 'deleted' });
    expect(getMessage(doc, id)?.reactions).toEqual({});
  });

  it('keeps every reaction when several users react concurrently with the same emoji', () => {
    const docs = [docWithClient(1), docWithClient(2), docWithClient(3)];
    const [first, second, third] = docs;
    if (!first || !second || !third) throw new Error('three docs');
    const id = sent(createMessage(first, alice, { content: 'vote', now: T0 }));
    syncAll(docs);
    addReaction(first, alice, { messageId: id, reaction: '👍', now: T0 + 3 });
    addReaction(second, bob, { messageId: id, reaction: '👍', now: T0 + 1 });
    addReaction(third, carolAdmin, { messageId: id, reaction: '👍', now: T0 + 2 });
    addReaction(third, carolAdmin, { messageId: id, reaction: '🎉', now: T0 + 2 });
    syncAll(docs);
    for (const doc of docs) {
      expect(getMessage(doc, id)?.reactions).toEqual({ '👍': [BOB, CAROL, ALICE], '🎉': [CAROL] });
    }
  });

  it('keeps a concurrent add by one user and remove by another apart', () => {
    const a = docWithClient(1);
    const b = docWithClient(2);
    const id = sent(createMessage(a, alice, { content: 'x', now: T0 }));
    addReaction(a, alice, { messageId: id, reaction: '👍', now: T0 });
    syncAll([a, b]);
    removeReaction(a, alice, { messageId: id, reaction: '👍' });
    addReaction(b, bob, { messageId: id, reaction: '👍', now: T0 + 1 });
    syncAll([a, b]);
    expect(getMessage(a, id)?.reactions).toEqual({ '👍': [BOB] });
    expect(getMessage(b, id)?.reactions).toEqual({ '👍': [BOB] });
  });
});
