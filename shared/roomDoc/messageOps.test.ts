import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { uuidv7Time } from '../ids.ts';
import { MAX_CONTENT_LENGTH } from '../models/chatMessage.ts';
import { MAX_FUTURE_SKEW_MS, roomMaps } from './layout.ts';
import { createMessage, createSystemMessage, deleteMessage, editMessage, reattachMessage } from './messageOps.ts';
import { getMessage } from './queries.ts';
import { scrubDeleted } from './scrubDeleted.ts';
import {
  ALICE,
  CAROL,
  T0,
  alice,
  bob,
  carolAdmin,
  daveOwner,
  docWithClient,
  encodedStateContains,
  exchange,
  sent,
  stateVectorOf,
  v7,
} from '../../test/support/roomDocFixtures.ts';

describe('createMessage', () => {
  it('mints a lowercase UUIDv7 whose time is createdAt, with the actor as sender', () => {
    const doc = new Y.Doc();
    const id = sent(createMessage(doc, alice, { content: 'hello', now: T0 }));
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const view = getMessage(doc, id);
    expect(view).toMatchObject({ id, senderId: ALICE, type: 'text', content: 'hello', meta: {}, editedAt: null, deletedAt: null });
    expect(view?.createdAt).toBe(uuidv7Time(id));
  });

  it('keeps a client-supplied id and stores exactly the documented value', () => {
    const doc = new Y.Doc();
    const id = v7(T0, 1);
    expect(createMessage(doc, alice, { id, type: 'image', content: 'cat.png', meta: { w: 640 }, now: T0 })).toEqual({ ok: true, id });
    expect(roomMaps(doc).messages.get(id)).toEqual({ id, senderId: ALICE, type: 'image', content: 'cat.png', meta: { w: 640 }, createdAt: T0 });
  });

  it.each([
    ['an uppercase id', { id: v7(T0, 2).toUpperCase(), content: 'x' }],
    ['a v4 id', { id: '0c7f3a1e-58f2-4c8e-9a51-0b0f1c2d3e99', content: 'x' }],
    ['a non-uuid id', { id: 'hello', content: 'x' }],
    ['an id too far in the future', { id: v7(T0 + MAX_FUTURE_SKEW_MS + 1), content: 'x' }],
    ['a system message from a member', { type: 'system' as const, content: 'x' }],
    ['content over the limit', { content: 'x'.repeat(MAX_CONTENT_LENGTH + 1) }],
    ['a __proto__ key in meta', { content: 'x', meta: JSON.parse('{"__proto__": {"polluted": true}}') }],
  ])('refuses %s as invalid_payload and writes nothing', (_name, input) => {
    const doc = new Y.Doc();
    const result = createMessage(doc, alice, { ...input, now: T0 });
    expect(result).toMatchObject({ ok: false, code: 'invalid_payload' });
    expect(roomMaps(doc).messages.size).toBe(0);
  });

  it('accepts an id slightly ahead of the clock (device clocks differ)', () => {
    const doc = new Y.Doc();
    expect(createMessage(doc, alice, { id: v7(T0 + MAX_FUTURE_SKEW_MS), content: 'x', now: T0 }).ok).toBe(true);
  });

  it('is idempotent: the same message again is ok and writes nothing; different content is a conflict', () => {
    const doc = new Y.Doc();
    const id = v7(T0, 3);
    sent(createMessage(doc, alice, { id, content: 'hi', meta: { a: 1, b: [1, 2] }, now: T0 }));
    const before = stateVectorOf(doc);
    expect(createMessage(doc, alice, { id, content: 'hi', meta: { b: [1, 2], a: 1 }, now: T0 + 5 })).toEqual({ ok: true, id });
    expect(stateVectorOf(doc)).toBe(before);
    expect(createMessage(doc, alice, { id, content: 'other', now: T0 })).toMatchObject({ ok: false, code: 'conflict' });
    expect(createMessage(doc, alice, { id, content: 'hi', meta: { a: 2, b: [1, 2] }, now: T0 })).toMatchObject({ ok: false, code: 'conflict' });
    expect(createMessage(doc, bob, { id, content: 'hi', meta: { a: 1, b: [1, 2] }, now: T0 })).toMatchObject({ ok: false, code: 'conflict' });
    expect(getMessage(doc, id)?.content).toBe('hi');
  });

  it('treats re-creating a deleted message as a conflict', () => {
    const doc = new Y.Doc();
    const id = sent(createMessage(doc, alice, { content: 'hi', now: T0 }));
    expect(deleteMessage(doc, alice, { id, now: T0 + 1 }).ok).toBe(true);
    expect(createMessage(doc, alice, { id, content: 'hi', now: T0 })).toMatchObject({ ok: false, code: 'conflict' });
  });

  it('stores a copy: mutating the caller’s meta afterwards does not change the document', () => {
    const doc = new Y.Doc();
    const meta = { nested: { n: 1 } };
    const id = sent(createMessage(doc, alice, { content: 'x', meta, now: T0 }));
    meta.nested.n = 2;
    expect(getMessage(doc, id)?.meta).toEqual({ nested: { n: 1 } });
  });

  it('passes the origin to the transaction', () => {
    const doc = new Y.Doc();
    const origins: unknown[] = [];
    doc.on('update', (_update: Uint8Array, origin: unknown) => origins.push(origin));
    const origin = { connection: 7 };
    sent(createMessage(doc, alice, { content: 'x', now: T0 }, origin));
    expect(origins).toEqual([origin]);
  });

  it('throws on a malformed actor (a bug, not a payload problem)', () => {
    expect(() => createMessage(new Y.Doc(), { userId: 'alice|x', role: 'member' }, { content: 'x' })).toThrow(TypeError);
  });
});

describe('createSystemMessage', () => {
  it('writes a message with no sender that nobody can edit and only managers can delete', () => {
    const doc = new Y.Doc();
    const id = sent(createSystemMessage(doc, { content: 'Bob joined', now: T0 }));
    expect(getMessage(doc, id)).toMatchObject({ senderId: null, type: 'system' });
    expect(editMessage(doc, daveOwner, { id, content: 'x' })).toMatchObject({ code: 'forbidden' });
    expect(deleteMessage(doc, alice, { id })).toMatchObject({ code: 'forbidden' });
    expect(deleteMessage(doc, carolAdmin, { id }).ok).toBe(true);
  });
});

describe('editMessage', () => {
  const setup = () => {
    const doc = new Y.Doc();
    const id = sent(createMessage(doc, alice, { content: 'first', meta: { k: 1 }, now: T0 }));
    return { doc, id };
  };

  it('replaces content and keeps meta when only content is given; sets editedAt', () => {
    const { doc, id } = setup();
    expect(editMessage(doc, alice, { id, content: 'second', now: T0 + 10 })).toEqual({ ok: true });
    expect(getMessage(doc, id)).toMatchObject({ content: 'second', meta: { k: 1 }, editedAt: T0 + 10 });
  });

  it('replaces meta alone', () => {
    const { doc, id } = setup();
    expect(editMessage(doc, alice, { id, meta: { k: 2 }, now: T0 + 10 })).toEqual({ ok: true });
    expect(getMessage(doc, id)).toMatchObject({ content: 'first', meta: { k: 2 } });
  });

  it('lets only the sender edit, not even an owner', () => {
    const { doc, id } = setup();
    expect(editMessage(doc, bob, { id, content: 'x' })).toMatchObject({ ok: false, code: 'forbidden' });
    expect(editMessage(doc, daveOwner, { id, content: 'x' })).toMatchObject({ ok: false, code: 'forbidden' });
    expect(getMessage(doc, id)?.content).toBe('first');
  });

  it('answers not_found, deleted and invalid_payload', () => {
    const { doc, id } = setup();
    expect(editMessage(doc, alice, { id: v7(T0, 99), content: 'x' })).toMatchObject({ code: 'not_found' });
    expect(editMessage(doc, alice, { id })).toMatchObject({ code: 'invalid_payload' });
    expect(editMessage(doc, alice, { id, content: 'x'.repeat(MAX_CONTENT_LENGTH + 1) })).toMatchObject({ code: 'invalid_payload' });
    deleteMessage(doc, alice, { id });
    expect(editMessage(doc, alice, { id, content: 'x' })).toMatchObject({ code: 'deleted' });
  });

  it('does not write when nothing changes (a retried edit)', () => {
    const { doc, id } = setup();
    editMessage(doc, alice, { id, content: 'second', now: T0 + 10 });
    const before = stateVectorOf(doc);
    expect(editMessage(doc, alice, { id, content: 'second', meta: { k: 1 }, now: T0 + 20 })).toEqual({ ok: true });
    expect(stateVectorOf(doc)).toBe(before);
    expect(getMessage(doc, id)?.editedAt).toBe(T0 + 10);
  });

  it('never moves editedAt back or before createdAt when device clocks disagree', () => {
    const { doc, id } = setup();
    editMessage(doc, alice, { id, content: 'b', now: T0 + 100 });
    editMessage(doc, alice, { id, content: 'c', now: T0 + 50 });
    expect(getMessage(doc, id)?.editedAt).toBe(T0 + 100);
    const late = new Y.Doc();
    const other = sent(createMessage(late, alice, { content: 'a', now: T0 }));
    editMessage(late, alice, { id: other, content: 'b', now: T0 - 1000 });
    expect(getMessage(late, other)?.editedAt).toBe(uuidv7Time(other));
  });
});

describe('reattachMessage', () => {
  const ref = (id: string, name = 'plan.pdf') => ({ id, name, mimeType: 'application/pdf', size: 9 });
  const setup = () => {
    const doc = new Y.Doc({ gc: true });
    const id = sent(createMessage(doc, alice, { type: 'file', content: 'the plan', attachments: [ref(v7(T0, 50))], now: T0 }));
    return { doc, id };
  };

  it('replaces the references and keeps everything else; the same references again write nothing', () => {
    const { doc, id } = setup();
    const before = roomMaps(doc).messages.get(id);
    expect(reattachMessage(doc, alice, { id, attachments: [ref(v7(T0, 60))] })).toEqual({ ok: true });
    expect(roomMaps(doc).messages.get(id)).toEqual({ ...(before as object), attachments: [ref(v7(T0, 60))] });
    const written = stateVectorOf(doc);
    expect(reattachMessage(doc, alice, { id, attachments: [ref(v7(T0, 60))] })).toEqual({ ok: true });
    expect(stateVectorOf(doc)).toBe(written);
  });

  it('leaves no trace of the old references in the encoded state (the refused value is collected)', () => {
    const { doc, id } = setup();
    reattachMessage(doc, alice, { id, attachments: [ref(v7(T0, 60), 'fresh.pdf')] });
    expect(encodedStateContains(doc, v7(T0, 50))).toBe(false);
    expect(encodedStateContains(doc, 'fresh.pdf')).toBe(true);
  });

  it('answers forbidden for someone else, not_found, deleted, and invalid_payload for a message without files or a bad reference', () => {
    const { doc, id } = setup();
    expect(reattachMessage(doc, bob, { id, attachments: [ref(v7(T0, 60))] })).toMatchObject({ code: 'forbidden' });
    expect(reattachMessage(doc, alice, { id: v7(T0, 99), attachments: [ref(v7(T0, 60))] })).toMatchObject({ code: 'not_found' });
    expect(reattachMessage(doc, alice, { id, attachments: [] })).toMatchObject({ code: 'invalid_payload' });
    const text = sent(createMessage(doc, alice, { content: 'no files', now: T0 }));
    expect(reattachMessage(doc, alice, { id: text, attachments: [ref(v7(T0, 60))] })).toMatchObject({ code: 'invalid_payload' });
    deleteMessage(doc, alice, { id });
    expect(reattachMessage(doc, alice, { id, attachments: [ref(v7(T0, 60))] })).toMatchObject({ code: 'deleted' });
  });
});

describe('deleteMessage', () => {
  const setup = () => {
    const doc = new Y.Doc();
    const id = sent(createMessage(doc, alice, { content: 'secret words', meta: { file: 'x.pdf' }, now: T0 }));
    return { doc, id };
  };

  it.each([
    ['the sender', alice],
    ['an admin', carolAdmin],
    ['an owner', daveOwner],
  ])('lets %s delete, recording when and by whom', (_who, actor) => {
    const { doc, id } = setup();
    expect(deleteMessage(doc, actor, { id, now: T0 + 5 })).toEqual({ ok: true });
    expect(getMessage(doc, id)).toMatchObject({ content: '', meta: {}, deletedAt: T0 + 5, deletedBy: actor.userId, senderId: ALICE });
    expect(roomMaps(doc).messages.get(id)).toEqual({ id, senderId: ALICE, type: 'text', content: '', meta: {}, createdAt: uuidv7Time(id) });
  });

  it('refuses other members and unknown ids', () => {
    const { doc, id } = setup();
    expect(deleteMessage(doc, bob, { id })).toMatchObject({ ok: false, code: 'forbidden' });
    expect(deleteMessage(doc, alice, { id: v7(T0, 42) })).toMatchObject({ ok: false, code: 'not_found' });
    expect(getMessage(doc, id)?.deletedAt).toBeNull();
  });

  it('is idempotent: a second delete is ok, writes nothing and keeps the first deletion', () => {
    const { doc, id } = setup();
    deleteMessage(doc, alice, { id, now: T0 + 5 });
    const before = stateVectorOf(doc);
    expect(deleteMessage(doc, carolAdmin, { id, now: T0 + 9 })).toEqual({ ok: true });
    expect(stateVectorOf(doc)).toBe(before);
    expect(getMessage(doc, id)).toMatchObject({ deletedAt: T0 + 5, deletedBy: ALICE });
  });

  it('really removes the text: it is absent from the encoded state and from a fresh copy', () => {
    const { doc, id } = setup();
    // The control: before deletion the bytes are there, so the check below can fail.
    expect(encodedStateContains(doc, 'secret words')).toBe(true);
    const remote = new Y.Doc();
    exchange(doc, remote);
    deleteMessage(doc, carolAdmin, { id, now: T0 + 1 });
    const update = Y.encodeStateAsUpdate(doc);
    expect(Buffer.from(update).includes(Buffer.from('secret words'))).toBe(false);
    expect(Buffer.from(update).includes(Buffer.from('x.pdf'))).toBe(false);
    const fresh = new Y.Doc();
    Y.applyUpdate(fresh, update);
    expect(encodedStateContains(fresh, 'secret words')).toBe(false);
    expect(getMessage(fresh, id)?.deletedBy).toBe(CAROL);
    // A peer that had the text drops it too once the deletion reaches it.
    exchange(doc, remote);
    expect(encodedStateContains(remote, 'secret words')).toBe(false);
  });

  it('drops the previous text of an edited message as well', () => {
    const { doc, id } = setup();
    editMessage(doc, alice, { id, content: 'second version', now: T0 + 1 });
    expect(encodedStateContains(doc, 'secret words')).toBe(false);
    deleteMessage(doc, alice, { id, now: T0 + 2 });
    expect(encodedStateContains(doc, 'second version')).toBe(false);
  });
});

describe('edit concurrent with delete', () => {
  /**
   * Concurrent writes to one Y.Map key: the higher client id wins. With the editor's id higher,
   * the edited value beats the tombstone and brings text back; the deletion key still wins.
   */
  function race(editorClient: number, deleterClient: number) {
    const editorDoc = docWithClient(editorClient);
    const adminDoc = docWithClient(deleterClient);
    const id = sent(createMessage(editorDoc, alice, { content: 'original', now: T0 }));
    exchange(editorDoc, adminDoc);
    expect(editMessage(editorDoc, alice, { id, content: 'edited while deleted', now: T0 + 10 }).ok).toBe(true);
    expect(deleteMessage(adminDoc, carolAdmin, { id, now: T0 + 10 }).ok).toBe(true);
    exchange(editorDoc, adminDoc);
    return { editorDoc, adminDoc, id };
  }

  it('delete wins; scrubDeleted clears the resurrected text everywhere', () => {
    const { editorDoc, adminDoc, id } = race(200, 100);
    for (const doc of [editorDoc, adminDoc]) {
      expect(getMessage(doc, id)).toMatchObject({ content: '', deletedBy: CAROL });
      // The raw value lost to the edit: this is the case scrubDeleted exists for.
      expect(roomMaps(doc).messages.get(id)).toMatchObject({ content: 'edited while deleted' });
    }
    expect(scrubDeleted(adminDoc, 'server')).toBe(1);
    expect(scrubDeleted(adminDoc)).toBe(0);
    exchange(editorDoc, adminDoc);
    expect(scrubDeleted(editorDoc)).toBe(0);
    for (const doc of [editorDoc, adminDoc]) {
      expect(roomMaps(doc).messages.get(id)).toMatchObject({ content: '', meta: {} });
      expect(encodedStateContains(doc, 'edited while deleted')).toBe(false);
    }
    expect(stateVectorOf(editorDoc)).toBe(stateVectorOf(adminDoc));
  });

  it('needs no scrub when the tombstone wins the key', () => {
    const { editorDoc, adminDoc, id } = race(100, 200);
    expect(roomMaps(editorDoc).messages.get(id)).toMatchObject({ content: '' });
    expect(scrubDeleted(editorDoc)).toBe(0);
    expect(scrubDeleted(adminDoc)).toBe(0);
    expect(getMessage(editorDoc, id)).toMatchObject({ content: '', deletedBy: CAROL });
  });

  it('scrubs a message whose deletion arrives before the index ever looked at it', () => {
    const { adminDoc } = race(200, 100);
    const copy = new Y.Doc();
    Y.applyUpdate(copy, Y.encodeStateAsUpdate(adminDoc));
    expect(scrubDeleted(copy)).toBe(1);
    expect(encodedStateContains(copy, 'edited while deleted')).toBe(false);
  });
});
