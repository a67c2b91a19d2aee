import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { HEAD_ROOT, MAX_PINS } from './headMaps.ts';
import { createMessage, deleteMessage } from './messageOps.ts';
import { pinMessage, pinnedMessages, unpinMessage } from './pinOps.ts';
import { pinsOf, withPin } from './pinReads.ts';
import { getMessage, listMessages } from './queries.ts';
import { DAVE, CAROL, T0, alice, bob, carolAdmin, daveOwner, docWithClient, sent, stateVectorOf, syncAll, v7 } from '../../test/support/roomDocFixtures.ts';

function room() {
  const doc = new Y.Doc();
  const id = sent(createMessage(doc, alice, { content: 'pin me', now: T0 }));
  return { doc, id };
}

describe('pinMessage / unpinMessage', () => {
  it('lets owners and admins pin; the pin shows on the message in every read', () => {
    const { doc, id } = room();
    expect(pinMessage(doc, carolAdmin, { messageId: id, now: T0 + 5 })).toEqual({ ok: true, pin: { pinnedAt: T0 + 5, pinnedBy: CAROL } });
    expect(getMessage(doc, id)?.pin).toEqual({ pinnedAt: T0 + 5, pinnedBy: CAROL });
    expect(listMessages(doc, { limit: 10 }).messages[0]?.pin).toEqual({ pinnedAt: T0 + 5, pinnedBy: CAROL });
    expect(doc.getMap(HEAD_ROOT.pins).toJSON()).toEqual({ [id]: { pinnedAt: T0 + 5, pinnedBy: CAROL } });
  });

  it('refuses members, even the sender, to pin or unpin', () => {
    const { doc, id } = room();
    expect(pinMessage(doc, alice, { messageId: id })).toMatchObject({ ok: false, code: 'forbidden' });
    pinMessage(doc, daveOwner, { messageId: id, now: T0 });
    expect(unpinMessage(doc, bob, id)).toMatchObject({ ok: false, code: 'forbidden' });
    expect(getMessage(doc, id)?.pin?.pinnedBy).toBe(DAVE);
  });

  it('refuses an unknown message, a deleted one and a malformed id', () => {
    const { doc, id } = room();
    expect(pinMessage(doc, daveOwner, { messageId: v7(T0 + 99) })).toMatchObject({ ok: false, code: 'not_found' });
    expect(pinMessage(doc, daveOwner, { messageId: 'nope' })).toMatchObject({ ok: false, code: 'invalid_payload' });
    deleteMessage(doc, alice, { id, now: T0 + 1 });
    expect(pinMessage(doc, daveOwner, { messageId: id })).toMatchObject({ ok: false, code: 'deleted' });
  });

  it('is idempotent: pinning twice keeps the first pin, unpinning twice writes nothing', () => {
    const { doc, id } = room();
    pinMessage(doc, carolAdmin, { messageId: id, now: T0 + 1 });
    const before = stateVectorOf(doc);
    expect(pinMessage(doc, daveOwner, { messageId: id, now: T0 + 9 })).toEqual({ ok: true, pin: { pinnedAt: T0 + 1, pinnedBy: CAROL } });
    expect(stateVectorOf(doc)).toBe(before);
    expect(unpinMessage(doc, daveOwner, id)).toEqual({ ok: true, unpinned: true });
    const after = stateVectorOf(doc);
    expect(unpinMessage(doc, daveOwner, id)).toEqual({ ok: true, unpinned: false });
    expect(stateVectorOf(doc)).toBe(after);
    expect(getMessage(doc, id)?.pin).toBeUndefined();
  });

  it('a deleted message shows unpinned, and leaves the pinned list', () => {
    const { doc, id } = room();
    pinMessage(doc, daveOwner, { messageId: id, now: T0 + 1 });
    deleteMessage(doc, alice, { id, now: T0 + 2 });
    expect(getMessage(doc, id)?.pin).toBeUndefined();
    expect(pinnedMessages(doc, (m) => getMessage(doc, m))).toEqual([]);
    // The key stays until a manager unpins it (a member's deletion cannot write pins).
    expect(pinsOf(doc)).toHaveLength(1);
    expect(unpinMessage(doc, daveOwner, id)).toEqual({ ok: true, unpinned: true });
  });

  it(`holds at most ${MAX_PINS} pins; unpinning makes room again`, () => {
    const doc = new Y.Doc();
    const ids = Array.from({ length: MAX_PINS + 1 }, (_, i) => sent(createMessage(doc, alice, { content: `m${i}`, now: T0 + i })));
    for (const id of ids.slice(0, MAX_PINS)) expect(pinMessage(doc, daveOwner, { messageId: id, now: T0 })).toMatchObject({ ok: true });
    expect(pinMessage(doc, daveOwner, { messageId: ids[MAX_PINS]! })).toMatchObject({ ok: false, code: 'invalid_payload' });
    unpinMessage(doc, daveOwner, ids[0]!);
    expect(pinMessage(doc, daveOwner, { messageId: ids[MAX_PINS]! })).toMatchObject({ ok: true });
  });

  it('in a segmented room checks the message in the segment holding it and writes the pin in the head', () => {
    const head = new Y.Doc();
    const segment = new Y.Doc();
    const id = sent(createMessage(segment, alice, { content: 'old news', now: T0 }));
    expect(pinMessage(head, daveOwner, { messageId: id })).toMatchObject({ ok: false, code: 'not_found' });
    expect(pinMessage(head, daveOwner, { messageId: id, holder: segment, now: T0 + 3 })).toMatchObject({ ok: true });
    expect(segment.getMap(HEAD_ROOT.pins).size).toBe(0);
    // A view read from the segment has no pin; the head adds it.
    const view = getMessage(segment, id);
    expect(view?.pin).toBeUndefined();
    expect(view && withPin(view, head).pin).toEqual({ pinnedAt: T0 + 3, pinnedBy: DAVE });
    expect(pinnedMessages(head, (m) => getMessage(segment, m)).map((m) => m.id)).toEqual([id]);
  });
});

describe('pinnedMessages', () => {
  it('lists newest pin first and leaves out messages the reader cannot read', () => {
    const doc = new Y.Doc();
    const [a, b, c] = ['a', 'b', 'c'].map((content, i) => sent(createMessage(doc, alice, { content, now: T0 + i })));
    pinMessage(doc, daveOwner, { messageId: a!, now: T0 + 30 });
    pinMessage(doc, daveOwner, { messageId: b!, now: T0 + 10 });
    pinMessage(doc, daveOwner, { messageId: c!, now: T0 + 20 });
    expect(pinnedMessages(doc, (id) => getMessage(doc, id)).map((m) => m.content)).toEqual(['a', 'c', 'b']);
    expect(pinnedMessages(doc, (id) => (id === c ? null : getMessage(doc, id))).map((m) => m.content)).toEqual(['a', 'b']);
  });

  it('withPin drops a stale pin the head no longer holds (a recent page from before an unpin)', () => {
    const { doc, id } = room();
    pinMessage(doc, daveOwner, { messageId: id, now: T0 });
    const pictured = getMessage(doc, id)!;
    unpinMessage(doc, daveOwner, id);
    expect(withPin(pictured, doc).pin).toBeUndefined();
  });

  it('concurrent pins and unpins converge on every replica', () => {
    const [x, y, z] = [docWithClient(1), docWithClient(2), docWithClient(3)];
    const id = sent(createMessage(x, alice, { content: 'contested', now: T0 }));
    syncAll([x, y, z]);
    pinMessage(x, daveOwner, { messageId: id, now: T0 + 1 });
    pinMessage(y, carolAdmin, { messageId: id, now: T0 + 2 });
    syncAll([x, y, z]);
    unpinMessage(z, daveOwner, id);
    pinMessage(x, carolAdmin, { messageId: id, now: T0 + 3 });
    syncAll([x, y, z]);
    const pins = [x, y, z].map((d) => JSON.stringify(getMessage(d, id)?.pin ?? null));
    expect(new Set(pins).size).toBe(1);
  });
});
