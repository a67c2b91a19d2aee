import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import * as encoding from 'lib0/encoding';
import { roomMaps, reactionKey, readKey, tombstoneOf, parseMessageEntry } from '../../shared/roomDoc/layout.ts';
import { createMessage, deleteMessage, editMessage } from '../../shared/roomDoc/messageOps.ts';
import { addReaction, removeReaction } from '../../shared/roomDoc/reactionOps.ts';
import { markRead, readPosition } from '../../shared/roomDoc/readOps.ts';
import { listMessages } from '../../shared/roomDoc/queries.ts';
import { SERVER_OWNER } from './ClientOwners.ts';
import type { Actor } from '../../shared/roomDoc/actor.ts';
import { ALICE, BOB, CAROL, T0, alice, bob, carolAdmin, v7 } from '../../test/support/roomDocFixtures.ts';
import { MAX_META_BYTES, MAX_REACTION_CHANGES_PER_UPDATE, MAX_REACTIONS_PER_PERSON_PER_MESSAGE } from '../../shared/roomDoc/valueLimits.ts';
import { Device, ValidatingServer } from '../../test/support/ValidatingServer.ts';

const setup = () => {
  const server = new ValidatingServer([alice, bob, carolAdmin]);
  const a = new Device(alice, server);
  const b = new Device(bob, server);
  const c = new Device(carolAdmin, server);
  return { server, a, b, c };
};

/** Alice sends a message; everyone pulls it. */
function withAliceMessage() {
  const env = setup();
  const result = createMessage(env.a.doc, alice, { content: 'hello' });
  if (!result.ok) throw new Error('create failed');
  expect(env.a.push()).toBeNull();
  env.b.pull();
  env.c.pull();
  return { ...env, id: result.id };
}

/** A forged change made on a fresh device of `actor` (so earlier refused attempts leave no gaps). */
function forge(server: ValidatingServer, actor: Actor, change: (doc: Y.Doc) => void): Uint8Array {
  return new Device(actor, server).capture(change);
}

/** Submits an update and expects a refusal with `code`; the server's state must not change. */
function expectRefused(server: ValidatingServer, userId: string, update: Uint8Array, code: string): void {
  const before = server.state();
  const refusal = server.submit(userId, update);
  expect(refusal?.code, refusal?.reason).toBe(code);
  expect(Buffer.from(server.state()).equals(Buffer.from(before))).toBe(true);
}

describe('validateUpdate: legitimate changes are accepted', () => {
  it('create, edit and delete own messages; react, unreact and read', () => {
    const { server, a, b, id } = withAliceMessage();
    expect(editMessage(a.doc, alice, { id, content: 'hello again' }).ok).toBe(true);
    expect(a.push()).toBeNull();
    b.pull();
    expect(addReaction(b.doc, bob, { messageId: id, reaction: '👍' }).ok).toBe(true);
    expect(markRead(b.doc, bob, id).ok).toBe(true);
    expect(b.push()).toBeNull();
    expect(removeReaction(b.doc, bob, { messageId: id, reaction: '👍' }).ok).toBe(true);
    expect(b.push()).toBeNull();
    a.pull();
    expect(deleteMessage(a.doc, alice, { id }).ok).toBe(true);
    expect(a.push()).toBeNull();
    expect(listMessages(server.doc, { limit: 10 }).messages.map((m) => [m.id, m.deletedBy])).toEqual([[id, ALICE]]);
  });

  it('an admin deletes a member’s message (tombstone plus deletion record)', () => {
    const { server, c, id } = withAliceMessage();
    expect(deleteMessage(c.doc, carolAdmin, { id }).ok).toBe(true);
    expect(c.push()).toBeNull();
    expect(parseMessageEntry(id, roomMaps(server.doc).messages.get(id))?.content).toBe('');
  });

  it('a batch made offline on two devices of one user, including edits of unsent messages', () => {
    const server = new ValidatingServer([alice, bob]);
    const phone = new Device(alice, server);
    const laptop = new Device(alice, server);
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      const r = createMessage(phone.doc, alice, { content: `offline ${i}` + i });
      if (r.ok) ids.push(r.id);
    }
    const first = ids[0] ?? '';
    expect(editMessage(phone.doc, alice, { id: first, content: 'edited offline' }).ok).toBe(true);
    expect(markRead(phone.doc, alice, ids[19] ?? '').ok).toBe(true);
    // The laptop learns the phone's changes through a shared device (tabs, say), then edits too.
    Y.applyUpdate(laptop.doc, Y.encodeStateAsUpdate(phone.doc));
    expect(editMessage(laptop.doc, alice, { id: first, content: 'edited on the laptop' }).ok).toBe(true);
    // The laptop's step 2 carries both devices' items, the phone's first.
    expect(laptop.push()).toBeNull();
    expect(phone.push()).toBeNull();
    expect(listMessages(server.doc, { limit: 50 }).messages).toHaveLength(20);
    expect(readPosition(server.doc, ALICE)).toBe(ids[19]);
  });

  it('a sender edits offline while an admin deletes: both accepted (the server re-tombstones later)', () => {
    const { server, a, c, id } = withAliceMessage();
    expect(deleteMessage(c.doc, carolAdmin, { id }).ok).toBe(true);
    expect(editMessage(a.doc, alice, { id, content: 'concurrent edit' }).ok).toBe(true);
    expect(c.push()).toBeNull();
    expect(a.push()).toBeNull();
    expect(roomMaps(server.doc).deletions.has(id)).toBe(true);
  });

  it('read positions from two devices: the lagging device may still write its own key', () => {
    const server = new ValidatingServer([alice, bob]);
    const b = new Device(bob, server);
    const ids = [0, 1, 2].map((i) => {
      const r = createMessage(b.doc, bob, { content: `m${i}` + i });
      return r.ok ? r.id : '';
    });
    expect(b.push()).toBeNull();
    const phone = new Device(alice, server);
    const laptop = new Device(alice, server);
    expect(markRead(phone.doc, alice, ids[2] ?? '').ok).toBe(true);
    expect(markRead(laptop.doc, alice, ids[1] ?? '').ok).toBe(true);
    expect(phone.push()).toBeNull();
    expect(laptop.push()).toBeNull();
    expect(readPosition(server.doc, ALICE)).toBe(ids[2]);
  });

  it('an update the server already has (a duplicate) and an empty update are harmless', () => {
    const { server, a } = withAliceMessage();
    expect(server.submit(ALICE, Y.encodeStateAsUpdate(a.doc))).toBeNull();
    expect(server.submit(ALICE, Y.encodeStateAsUpdate(new Y.Doc()))).toBeNull();
  });
});

describe('validateUpdate: forged changes are refused and change nothing', () => {
  it('a member edits someone else’s message', () => {
    const { server, b, id } = withAliceMessage();
    const forged = forge(server, bob, (doc) => {
      const value = parseMessageEntry(id, roomMaps(doc).messages.get(id));
      roomMaps(doc).messages.set(id, { ...value, content: 'forged' });
    });
    expectRefused(server, BOB, forged, 'forbidden');
  });

  it('a member deletes someone else’s message, with or without a tombstone', () => {
    const { server, b, id } = withAliceMessage();
    const record = forge(server, bob, (doc) => roomMaps(doc).deletions.set(id, { deletedAt: Date.now(), deletedBy: BOB }));
    expectRefused(server, BOB, record, 'forbidden');
    const tombstone = forge(server, bob, (doc) => {
      const value = parseMessageEntry(id, roomMaps(doc).messages.get(id));
      if (value) roomMaps(doc).messages.set(id, tombstoneOf(value));
    });
    expectRefused(server, BOB, tombstone, 'forbidden');
  });

  it('an admin blanks a message without recording a deletion', () => {
    const { server, c, id } = withAliceMessage();
    const update = forge(server, carolAdmin, (doc) => {
      const value = parseMessageEntry(id, roomMaps(doc).messages.get(id));
      if (value) roomMaps(doc).messages.set(id, tombstoneOf(value));
    });
    expectRefused(server, carolAdmin.userId, update, 'forbidden');
  });

  it('a deletion record in someone else’s name', () => {
    const { server, c, id } = withAliceMessage();
    const update = forge(server, carolAdmin, (doc) => roomMaps(doc).deletions.set(id, { deletedAt: Date.now(), deletedBy: ALICE }));
    expectRefused(server, carolAdmin.userId, update, 'forbidden');
  });

  it('removing a message or a deletion record outright', () => {
    const { server, a, c, id } = withAliceMessage();
    expectRefused(server, ALICE, forge(server, alice, (doc) => roomMaps(doc).messages.delete(id)), 'forbidden');
    expect(deleteMessage(c.doc, carolAdmin, { id }).ok).toBe(true);
    expect(c.push()).toBeNull();
    c.pull();
    expectRefused(server, carolAdmin.userId, forge(server, carolAdmin, (doc) => roomMaps(doc).deletions.delete(id)), 'forbidden');
  });

  it('a message sent as someone else, a system message, a message dated an hour ahead', () => {
    const { server, b } = setup();
    const asAlice = forge(server, bob, (doc) => {
      const at = Date.now();
      const id = v7(at);
      roomMaps(doc).messages.set(id, { id, senderId: ALICE, type: 'text', content: 'x', meta: {}, createdAt: at });
    });
    expectRefused(server, BOB, asAlice, 'bad_message');
    const system = forge(server, bob, (doc) => {
      const id = v7(T0, 1);
      roomMaps(doc).messages.set(id, { id, senderId: null, type: 'system', content: 'x', meta: {}, createdAt: T0 });
    });
    expectRefused(server, BOB, system, 'bad_message');
    const future = forge(server, bob, (doc) => {
      expect(createMessage(doc, bob, { id: v7(Date.now() + 3_600_000, 7), content: 'from the future', now: Date.now() + 3_600_000 }).ok).toBe(true);
    });
    expectRefused(server, BOB, future, 'bad_message');
  });

  it('an edit that changes the sender or the creation time', () => {
    const { server, a, id } = withAliceMessage();
    const update = forge(server, alice, (doc) => {
      const value = parseMessageEntry(id, roomMaps(doc).messages.get(id));
      roomMaps(doc).messages.set(id, { ...value, senderId: BOB, content: 'now it is bob’s' });
    });
    expectRefused(server, ALICE, update, 'bad_message');
  });

  it('reacting as someone else, removing someone else’s reaction', () => {
    const { server, a, b, id } = withAliceMessage();
    const asAlice = forge(server, bob, (doc) => roomMaps(doc).reactions.set(reactionKey({ messageId: id, userId: ALICE, reaction: '👍' }), T0));
    expectRefused(server, BOB, asAlice, 'forbidden');
    expect(addReaction(a.doc, alice, { messageId: id, reaction: '❤️' }).ok).toBe(true);
    expect(a.push()).toBeNull();
    b.pull();
    const remove = forge(server, bob, (doc) => roomMaps(doc).reactions.delete(reactionKey({ messageId: id, userId: ALICE, reaction: '❤️' })));
    expectRefused(server, BOB, remove, 'forbidden');
  });

  it('a read position moved backwards, or written for someone else', () => {
    const server = new ValidatingServer([alice, bob]);
    const b = new Device(bob, server);
    const ids = [0, 1].map((i) => {
      const r = createMessage(b.doc, bob, { content: `m${i}` + i });
      return r.ok ? r.id : '';
    });
    expect(b.push()).toBeNull();
    const a = new Device(alice, server);
    expect(markRead(a.doc, alice, ids[1] ?? '').ok).toBe(true);
    expect(a.push()).toBeNull();
    const back = a.capture((doc) => roomMaps(doc).reads.set(readKey({ userId: ALICE, clientId: doc.clientID }), ids[0]));
    expectRefused(server, ALICE, back, 'bad_read_position');
    const a2 = new Device(alice, server);
    const dropAll = forge(server, alice, (doc) => roomMaps(doc).reads.delete(readKey({ userId: ALICE, clientId: a.doc.clientID })));
    expectRefused(server, ALICE, dropAll, 'bad_read_position');
    const forOther = forge(server, bob, (doc) => roomMaps(doc).reads.set(readKey({ userId: ALICE, clientId: doc.clientID }), ids[1]));
    expectRefused(server, BOB, forOther, 'forbidden');
  });

  it('unknown roots, unknown keys, nested types, text, and __proto__ keys', () => {
    const { server, a, id } = withAliceMessage();
    expectRefused(server, ALICE, forge(server, alice, (doc) => doc.getMap('admin').set('x', 1)), 'bad_layout');
    expectRefused(server, ALICE, forge(server, alice, (doc) => roomMaps(doc).messages.set('not-an-id', 1)), 'bad_layout');
    expectRefused(server, ALICE, forge(server, alice, (doc) => roomMaps(doc).reactions.set('__proto__', 1)), 'bad_layout');
    expectRefused(server, ALICE, forge(server, alice, (doc) => roomMaps(doc).messages.set(v7(T0, 9), new Y.Map())), 'bad_layout');
    expectRefused(server, ALICE, forge(server, alice, (doc) => doc.getText('messages').insert(0, 'x')), 'bad_layout');
    const proto = forge(server, alice, (doc) => {
      const value = parseMessageEntry(id, roomMaps(doc).messages.get(id));
      roomMaps(doc).messages.set(id, { ...value, meta: JSON.parse('{"__proto__": {"polluted": true}}') as object });
    });
    expectRefused(server, ALICE, proto, 'bad_value');
  });

  it('an item under a client id another user owns, or the server owns', () => {
    const { server, a, id } = withAliceMessage();
    const stolen = new Device(bob, server);
    stolen.doc.clientID = a.doc.clientID;
    const update = stolen.capture((doc) => addReaction(doc, bob, { messageId: id, reaction: '👍' }));
    expectRefused(server, BOB, update, 'client_id_taken');
    server.owners.bind(4242, SERVER_OWNER);
    const asServer = new Device(bob, server);
    asServer.doc.clientID = 4242;
    expectRefused(server, BOB, asServer.capture((doc) => addReaction(doc, bob, { messageId: id, reaction: '👍' })), 'client_id_taken');
  });

  it('updates that would sit in pendingStructs: a clock gap, a missing origin, a delete of unknown clocks', () => {
    const { server, a, id } = withAliceMessage();
    a.capture((doc) => editMessage(doc, alice, { id, content: 'one' }));
    const second = a.capture((doc) => editMessage(doc, alice, { id, content: 'two' }));
    expectRefused(server, ALICE, second, 'missing_dependencies');

    // The laptop edits on top of the phone's unsent edit: its origin is missing on the server.
    const phone = new Device(alice, server);
    const laptop = new Device(alice, server);
    phone.capture((doc) => editMessage(doc, alice, { id, content: 'phone' }));
    Y.applyUpdate(laptop.doc, Y.encodeStateAsUpdate(phone.doc));
    const onTop = laptop.capture((doc) => editMessage(doc, alice, { id, content: 'laptop' }));
    expectRefused(server, ALICE, onTop, 'missing_dependencies');

    const encoder = encoding.createEncoder();
    encoding.writeVarUint(encoder, 0); // no structs
    encoding.writeVarUint(encoder, 1); // one client in the delete set
    encoding.writeVarUint(encoder, a.doc.clientID);
    encoding.writeVarUint(encoder, 1);
    encoding.writeVarUint(encoder, 1_000_000);
    encoding.writeVarUint(encoder, 5);
    expectRefused(server, ALICE, encoding.toUint8Array(encoder), 'missing_dependencies');
  });

  it('bytes that are no V1 update, and V2-encoded updates', () => {
    const { server, a } = withAliceMessage();
    expectRefused(server, ALICE, new Uint8Array([0xff, 0xff, 0xff]), 'malformed_update');
    const v2 = Y.encodeStateAsUpdateV2(a.doc);
    expectRefused(server, ALICE, v2, 'malformed_update');
  });

  it('an update that lists one client twice (Yjs would apply only the second run)', () => {
    const { server, a, id } = withAliceMessage();
    const one = a.capture((doc) => addReaction(doc, alice, { messageId: id, reaction: '1' }));
    const two = a.capture((doc) => addReaction(doc, alice, { messageId: id, reaction: '2' }));
    const runs = (u: Uint8Array) => Y.decodeUpdate(u).structs.length;
    expect(runs(one)).toBe(1);
    // Hand-assemble: header says two runs, both for alice's client.
    const body = (u: Uint8Array) => u.subarray(1, u.length - 1); // strip run count and empty delete set
    const forged = new Uint8Array([2, ...body(one), ...body(two), 0]);
    expectRefused(server, ALICE, forged, 'malformed_update');
  });
});

describe('validateUpdate: value limits (shared/roomDoc/valueLimits.ts)', () => {
  it('metadata over 8 KiB, on a new message or an edit, is over_limit; at the limit it passes', () => {
    const { server, a, id } = withAliceMessage();
    // {"k":"…"} is 8 bytes around the text.
    const meta = (bytes: number) => ({ k: 'x'.repeat(bytes - 8) });
    const now = Date.now();
    // v7 keeps the time of its argument: the id and createdAt agree.
    const atLimit = a.capture((doc) => roomMaps(doc).messages.set(v7(now, 1), { id: v7(now, 1), senderId: ALICE, type: 'text', content: 'ok', meta: meta(MAX_META_BYTES), createdAt: now }));
    expect(server.submit(ALICE, atLimit)).toBeNull();
    const newOver = forge(server, alice, (doc) => {
      const at = Date.now();
      roomMaps(doc).messages.set(v7(at, 2), { id: v7(at, 2), senderId: ALICE, type: 'text', content: 'big', meta: meta(MAX_META_BYTES + 1), createdAt: at });
    });
    expectRefused(server, ALICE, newOver, 'over_limit');
    a.pull();
    const existing = parseMessageEntry(id, roomMaps(a.doc).messages.get(id));
    if (!existing) throw new Error('no message');
    const editOver = a.capture((doc) => roomMaps(doc).messages.set(id, { ...existing, meta: meta(MAX_META_BYTES + 1), editedAt: Date.now() }));
    expectRefused(server, ALICE, editOver, 'over_limit');
  });

  it('more than 1,000 reaction changes in one update, or more than 20 reactions of one person on one message, are over_limit', () => {
    const { server, a, b, id } = withAliceMessage();
    const second = createMessage(a.doc, alice, { content: 'second' });
    if (!second.ok) throw new Error('create failed');
    expect(a.push()).toBeNull();
    b.pull();
    // 20 different reactions on one message: the limit, accepted.
    const twenty = b.capture((doc) => {
      for (let i = 0; i < MAX_REACTIONS_PER_PERSON_PER_MESSAGE; i++) roomMaps(doc).reactions.set(reactionKey({ messageId: id, userId: BOB, reaction: `r${i}` }), Date.now());
    });
    expect(server.submit(BOB, twenty)).toBeNull();
    const oneMore = b.capture((doc) => roomMaps(doc).reactions.set(reactionKey({ messageId: id, userId: BOB, reaction: 'one more' }), Date.now()));
    expectRefused(server, BOB, oneMore, 'over_limit');
    // Swapping one for another in one update keeps the count: accepted.
    const fresh = new Device(bob, server);
    fresh.pull();
    const swap = fresh.capture((doc) => {
      roomMaps(doc).reactions.delete(reactionKey({ messageId: id, userId: BOB, reaction: 'r0' }));
      roomMaps(doc).reactions.set(reactionKey({ messageId: id, userId: BOB, reaction: 'swapped' }), Date.now());
    });
    expect(server.submit(BOB, swap)).toBeNull();
    // One reaction change more than an update may carry.
    const many = forge(server, carolAdmin, (doc) => {
      for (let i = 0; i < MAX_REACTION_CHANGES_PER_UPDATE + 1; i++) {
        const messageId = i % 2 === 0 ? id : second.id;
        roomMaps(doc).reactions.set(reactionKey({ messageId, userId: CAROL, reaction: `c${i}` }), Date.now());
      }
    });
    expectRefused(server, CAROL, many, 'over_limit');
  });

  it('the SDK operations refuse what the validator would: big metadata, a 21st reaction', () => {
    const { a, b, id } = withAliceMessage();
    const big = createMessage(a.doc, alice, { content: 'big', meta: { k: 'x'.repeat(MAX_META_BYTES) } });
    expect(big).toMatchObject({ ok: false, code: 'invalid_payload' });
    expect(editMessage(a.doc, alice, { id, meta: { k: 'x'.repeat(MAX_META_BYTES) } })).toMatchObject({ ok: false, code: 'invalid_payload' });
    for (let i = 0; i < MAX_REACTIONS_PER_PERSON_PER_MESSAGE; i++) expect(addReaction(b.doc, bob, { messageId: id, reaction: `r${i}` }).ok).toBe(true);
    expect(addReaction(b.doc, bob, { messageId: id, reaction: 'one more' })).toMatchObject({ ok: false, code: 'invalid_payload' });
    // Adding one it already has is still fine.
    expect(addReaction(b.doc, bob, { messageId: id, reaction: 'r3' }).ok).toBe(true);
  });
});
