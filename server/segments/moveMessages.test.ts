import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { moveMessages } from './moveMessages.ts';
import { isTombstone, parseDeletionValue, parseMessageEntry, roomMaps } from '../../shared/roomDoc/layout.ts';
import { createMessage, deleteMessage, editMessage } from '../../shared/roomDoc/messageOps.ts';
import { addReaction } from '../../shared/roomDoc/reactionOps.ts';
import { getMessage } from '../../shared/roomDoc/queries.ts';
import { ALICE, BOB, CAROL, T0, alice, bob, carolAdmin, sent, v7 } from '../../test/support/roomDocFixtures.ts';

const ORIGIN = Symbol('test:move');

/** Two documents holding the same copy of a message: where a device wrote (source) and the message's home (target). */
function copies(content = 'hello', id = v7(T0, 1)): { source: Y.Doc; target: Y.Doc; id: string } {
  const target = new Y.Doc();
  sent(createMessage(target, alice, { id, content, now: T0 }));
  const source = new Y.Doc();
  Y.applyUpdate(source, Y.encodeStateAsUpdate(target));
  return { source, target, id };
}

/** Counts the transactions (updates) a document emits. */
function updatesOf(doc: Y.Doc): { count: number } {
  const seen = { count: 0 };
  doc.on('update', () => seen.count++);
  return seen;
}

const storedValue = (doc: Y.Doc, id: string) => parseMessageEntry(id, roomMaps(doc).messages.get(id));
const storedDeletion = (doc: Y.Doc, id: string) => parseDeletionValue(roomMaps(doc).deletions.get(id));

describe('moveMessages', () => {
  it('moves a message with its reactions, and a deleted one with its record, out of the source in one transaction per document', () => {
    const source = new Y.Doc();
    const target = new Y.Doc();
    const kept = sent(createMessage(source, bob, { id: v7(T0, 1), content: 'stays', now: T0 }));
    const reacted = sent(createMessage(source, alice, { id: v7(T0 + 1000, 2), content: 'react to me', now: T0 + 1000 }));
    const deleted = sent(createMessage(source, alice, { id: v7(T0 + 2000, 3), content: 'secret', now: T0 + 2000 }));
    expect(addReaction(source, bob, { messageId: reacted, reaction: '👍', now: T0 + 3000 }).ok).toBe(true);
    expect(addReaction(source, carolAdmin, { messageId: reacted, reaction: '🎉', now: T0 + 4000 }).ok).toBe(true);
    expect(addReaction(source, bob, { messageId: kept, reaction: '👀', now: T0 + 4000 }).ok).toBe(true);
    expect(deleteMessage(source, alice, { id: deleted, now: T0 + 5000 }).ok).toBe(true);

    const sourceUpdates = updatesOf(source);
    const targetUpdates = updatesOf(target);
    expect(moveMessages(source, target, [reacted, deleted], ORIGIN)).toEqual({ moved: 2, dropped: 0 });
    expect(sourceUpdates.count).toBe(1);
    expect(targetUpdates.count).toBe(1);

    expect(getMessage(target, reacted)).toMatchObject({ senderId: ALICE, content: 'react to me', deletedAt: null, reactions: { '👍': [BOB], '🎉': [CAROL] } });
    expect(getMessage(target, deleted)).toMatchObject({ content: '', deletedAt: T0 + 5000, deletedBy: ALICE });
    expect(storedDeletion(target, deleted)).toEqual({ deletedAt: T0 + 5000, deletedBy: ALICE });
    const tombstone = storedValue(target, deleted);
    expect(tombstone && isTombstone(tombstone)).toBe(true);

    // Gone from the source: values, the deletion record, the moved message's reactions; the rest stays.
    const from = roomMaps(source);
    expect([...from.messages.keys()]).toEqual([kept]);
    expect(from.deletions.size).toBe(0);
    expect([...from.reactions.keys()]).toEqual([`${kept}|${BOB}|👀`]);
    expect(getMessage(source, reacted)).toBeNull();
    expect(getMessage(source, deleted)).toBeNull();
    expect(getMessage(target, kept)).toBeNull();
  });

  it('drops a value written under an id the target holds from another sender (a forgery), and counts it', () => {
    const target = new Y.Doc();
    const genuine = sent(createMessage(target, alice, { id: v7(T0, 8), content: 'also real', now: T0 }));
    const source = new Y.Doc();
    Y.applyUpdate(source, Y.encodeStateAsUpdate(target));
    // The same id written by Alice in the target and by Bob in the source.
    const id = sent(createMessage(target, alice, { id: v7(T0, 7), content: 'the real one', now: T0 }));
    sent(createMessage(source, bob, { id, content: 'forged', now: T0 }));

    expect(moveMessages(source, target, [id, genuine], ORIGIN)).toEqual({ moved: 1, dropped: 1 });
    expect(getMessage(target, id)).toMatchObject({ senderId: ALICE, content: 'the real one' });
    expect(getMessage(target, genuine)).toMatchObject({ senderId: ALICE, content: 'also real' });
    expect(roomMaps(source).messages.size).toBe(0);
  });

  it('a later edit replaces the value the target holds', () => {
    const { source, target, id } = copies('first draft');
    expect(editMessage(source, alice, { id, content: 'second draft', now: T0 + 10_000 }).ok).toBe(true);
    expect(moveMessages(source, target, [id], ORIGIN)).toEqual({ moved: 1, dropped: 0 });
    expect(getMessage(target, id)).toMatchObject({ content: 'second draft', editedAt: T0 + 10_000 });
    expect(roomMaps(source).messages.has(id)).toBe(false);
  });

  it('an older copy, or an older edit, does not replace a newer edit the target holds', () => {
    const unedited = copies('first draft');
    expect(editMessage(unedited.target, alice, { id: unedited.id, content: 'final', now: T0 + 20_000 }).ok).toBe(true);
    const targetUpdates = updatesOf(unedited.target);
    expect(moveMessages(unedited.source, unedited.target, [unedited.id], ORIGIN)).toEqual({ moved: 1, dropped: 0 });
    expect(getMessage(unedited.target, unedited.id)).toMatchObject({ content: 'final', editedAt: T0 + 20_000 });
    // Nothing in the target changed: no write at all.
    expect(targetUpdates.count).toBe(0);

    const olderEdit = copies('first draft');
    expect(editMessage(olderEdit.source, alice, { id: olderEdit.id, content: 'stale edit', now: T0 + 10_000 }).ok).toBe(true);
    expect(editMessage(olderEdit.target, alice, { id: olderEdit.id, content: 'final', now: T0 + 20_000 }).ok).toBe(true);
    moveMessages(olderEdit.source, olderEdit.target, [olderEdit.id], ORIGIN);
    expect(getMessage(olderEdit.target, olderEdit.id)).toMatchObject({ content: 'final', editedAt: T0 + 20_000 });
    expect(roomMaps(olderEdit.source).messages.has(olderEdit.id)).toBe(false);
  });

  it('a deletion in the source wins over the live value in the target: tombstone and record', () => {
    const { source, target, id } = copies('secret');
    // Even over an edit the target holds that is newer than the copy the deletion saw.
    expect(editMessage(target, alice, { id, content: 'edited secret', now: T0 + 10_000 }).ok).toBe(true);
    expect(deleteMessage(source, carolAdmin, { id, now: T0 + 5_000 }).ok).toBe(true);
    moveMessages(source, target, [id], ORIGIN);
    expect(storedDeletion(target, id)).toEqual({ deletedAt: T0 + 5_000, deletedBy: CAROL });
    const value = storedValue(target, id);
    expect(value && isTombstone(value)).toBe(true);
    expect(value?.editedAt).toBe(T0 + 10_000);
    expect(getMessage(target, id)).toMatchObject({ content: '', deletedBy: CAROL });
    expect(roomMaps(source).messages.has(id)).toBe(false);
    expect(roomMaps(source).deletions.has(id)).toBe(false);
  });

  it('a deletion in the target wins over a live or edited value from the source: the tombstone and record stay', () => {
    const { source, target, id } = copies('secret');
    expect(deleteMessage(target, alice, { id, now: T0 + 5_000 }).ok).toBe(true);
    expect(editMessage(source, alice, { id, content: 'edited after the delete', now: T0 + 10_000 }).ok).toBe(true);
    moveMessages(source, target, [id], ORIGIN);
    expect(storedDeletion(target, id)).toEqual({ deletedAt: T0 + 5_000, deletedBy: ALICE });
    const value = storedValue(target, id);
    expect(value && isTombstone(value)).toBe(true);
    expect(getMessage(target, id)).toMatchObject({ content: '', deletedAt: T0 + 5_000 });
    expect(roomMaps(source).messages.has(id)).toBe(false);
  });
});
