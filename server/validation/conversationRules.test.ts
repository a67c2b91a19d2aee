import { describe, expect, it } from 'vitest';
import type * as Y from 'yjs';
import type { Actor } from '../../shared/roomDoc/actor.ts';
import { HEAD_ROOT, MAX_PINS, headMaps, threadReadKey } from '../../shared/roomDoc/headMaps.ts';
import { parseMessageEntry, roomMaps, tombstoneOf } from '../../shared/roomDoc/layout.ts';
import { createMessage, deleteMessage, editMessage } from '../../shared/roomDoc/messageOps.ts';
import { ALICE, BOB, CAROL, DAVE, alice, bob, carolAdmin, v7 } from '../../test/support/roomDocFixtures.ts';
import { Device, ValidatingServer } from '../../test/support/ValidatingServer.ts';

/*
 * The validator's rules for threads, quotes, mentions, pins and thread read positions
 * (docs/protocol.md, "Conversations"): each legitimate write is accepted, each forgery refused
 * with its code and leaves the server's document byte-identical.
 */

function room() {
  const server = new ValidatingServer([alice, bob, carolAdmin]);
  const a = new Device(alice, server);
  const b = new Device(bob, server);
  const c = new Device(carolAdmin, server);
  return { server, a, b, c };
}

function send(device: Device, input: Parameters<typeof createMessage>[2]): string {
  const result = createMessage(device.doc, device.actor, input);
  if (!result.ok) throw new Error(result.message);
  expect(device.push()).toBeNull();
  return result.id;
}

function expectRefused(server: ValidatingServer, actor: Actor, change: (doc: Y.Doc) => void, code: string): void {
  const before = Buffer.from(server.state());
  const update = new Device(actor, server).capture(change);
  const refusal = server.submit(actor.userId, update);
  expect(refusal?.code, refusal?.reason).toBe(code);
  expect(Buffer.from(server.state()).equals(before)).toBe(true);
}

/** Writes a raw message value as `actor`, bypassing messageOps' own checks. */
const writeValue = (value: Record<string, unknown>) => (doc: Y.Doc) => roomMaps(doc).messages.set(String(value['id']), value);

const rawMessage = (sender: string, extra: Record<string, unknown>): Record<string, unknown> => {
  const at = Date.now();
  return { id: v7(at, Math.floor(Math.random() * 2 ** 40)), senderId: sender, type: 'text', content: 'x', meta: {}, createdAt: at, ...extra };
};

describe('threads and quotes', () => {
  it('a reply, a reply shown in the channel and a quote are accepted; the reply keeps its thread when deleted by an admin', () => {
    const { server, a, b, c } = room();
    const root = send(a, { content: 'root' });
    b.pull();
    const reply = send(b, { content: 'reply', parentId: root });
    send(b, { content: 'also in channel', parentId: root, showInChannel: true });
    send(b, { content: 'quoting', quotedMessageId: root });
    c.pull();
    expect(deleteMessage(c.doc, carolAdmin, { id: reply }).ok).toBe(true);
    expect(c.push()).toBeNull();
    expect(parseMessageEntry(reply, roomMaps(server.doc).messages.get(reply))).toMatchObject({ content: '', parentId: root });
  });

  it('refuses a reply or a quote naming no message of the room', () => {
    const { server } = room();
    expectRefused(server, alice, writeValue(rawMessage(ALICE, { parentId: v7(Date.now() - 1000) })), 'unknown_message');
    expectRefused(server, alice, writeValue(rawMessage(ALICE, { quotedMessageId: v7(Date.now() - 1000) })), 'unknown_message');
  });

  it('refuses a reply to a reply: threads are one level deep', () => {
    const { server, a } = room();
    const root = send(a, { content: 'root' });
    const reply = send(a, { content: 'reply', parentId: root });
    expectRefused(server, alice, writeValue(rawMessage(ALICE, { parentId: reply })), 'bad_message');
  });

  it('refuses an edit that moves a message into or out of a thread', () => {
    const { server, a } = room();
    const root = send(a, { content: 'root' });
    const other = send(a, { content: 'other' });
    const value = parseMessageEntry(other, roomMaps(server.doc).messages.get(other));
    if (!value) throw new Error('no value');
    expectRefused(server, alice, writeValue({ ...value, content: 'moved', editedAt: Date.now(), parentId: root }), 'bad_message');
  });

  it('refuses an admin tombstone that drops the thread of someone else’s reply', () => {
    const { server, a } = room();
    const root = send(a, { content: 'root' });
    const reply = send(a, { content: 'reply', parentId: root });
    const value = parseMessageEntry(reply, roomMaps(server.doc).messages.get(reply));
    if (!value) throw new Error('no value');
    const { parentId: _dropped, ...withoutThread } = tombstoneOf(value);
    expectRefused(server, carolAdmin, (doc) => {
      roomMaps(doc).deletions.set(reply, { deletedAt: Date.now(), deletedBy: CAROL });
      roomMaps(doc).messages.set(reply, withoutThread);
    }, 'forbidden');
  });

  it('in a segment, a parent it cannot hold is accepted unless dated ahead of the clock', () => {
    const { server } = room();
    server.isSegment = true;
    const device = new Device(alice, server);
    expect(server.submit(ALICE, device.capture(writeValue(rawMessage(ALICE, { parentId: v7(Date.now() - 60_000) }))))).toBeNull();
    expectRefused(server, alice, writeValue(rawMessage(ALICE, { parentId: v7(Date.now() + 3_600_000) })), 'bad_message');
  });
});

describe('mentions', () => {
  it('accepts members and refuses anyone else, also when an edit adds them', () => {
    const { server, a } = room();
    const id = send(a, { content: 'hi @bob', mentionedUsers: [BOB, CAROL] });
    expectRefused(server, alice, writeValue(rawMessage(ALICE, { mentionedUsers: [DAVE] })), 'bad_message');
    a.pull();
    const edited = a.capture((doc) => {
      expect(editMessage(doc, alice, { id, content: 'hi @dave' }).ok).toBe(true);
    });
    expect(server.submit(ALICE, edited)).toBeNull();
    const value = parseMessageEntry(id, roomMaps(server.doc).messages.get(id));
    if (!value) throw new Error('no value');
    expectRefused(server, alice, writeValue({ ...value, editedAt: Date.now() + 1, mentionedUsers: [BOB, DAVE] }), 'bad_message');
  });

  it('a mention kept from before stays valid after its user left the room', () => {
    const { server, a } = room();
    const id = send(a, { content: 'hi @bob', mentionedUsers: [BOB] });
    server.roles.delete(BOB);
    a.pull();
    expect(editMessage(a.doc, alice, { id, content: 'hi again @bob' }).ok).toBe(true);
    expect(a.push()).toBeNull();
  });
});

describe('pins', () => {
  const pin = (id: string, by: string) => (doc: Y.Doc) => headMaps(doc).pins.set(id, { pinnedAt: Date.now(), pinnedBy: by });

  it('owners and admins pin and unpin; members may not', () => {
    const { server, a, c } = room();
    const id = send(a, { content: 'important' });
    c.pull();
    c.doc.transact(() => pin(id, CAROL)(c.doc));
    expect(c.push()).toBeNull();
    expect(headMaps(server.doc).pins.has(id)).toBe(true);
    expectRefused(server, alice, (doc) => headMaps(doc).pins.delete(id), 'forbidden');
    expectRefused(server, bob, pin(id, BOB), 'forbidden');
    headMaps(c.doc).pins.delete(id);
    expect(c.push()).toBeNull();
    expect(headMaps(server.doc).pins.has(id)).toBe(false);
  });

  it('refuses a pin recorded in someone else’s name, of no message, or in a segment', () => {
    const { server, a } = room();
    const id = send(a, { content: 'x' });
    expectRefused(server, carolAdmin, pin(id, BOB), 'forbidden');
    expectRefused(server, carolAdmin, pin(v7(Date.now() - 5), CAROL), 'unknown_message');
    server.isSegment = true;
    expectRefused(server, carolAdmin, pin(id, CAROL), 'bad_layout');
  });

  it(`holds at most ${MAX_PINS} pins`, () => {
    const { server, a, c } = room();
    const ids = Array.from({ length: MAX_PINS + 1 }, (_, i) => send(a, { content: `m${i}` }));
    c.pull();
    c.doc.transact(() => ids.slice(0, MAX_PINS).forEach((id) => pin(id, CAROL)(c.doc)));
    expect(c.push()).toBeNull();
    expectRefused(server, carolAdmin, pin(ids[MAX_PINS] ?? '', CAROL), 'over_limit');
    // An unpin makes room again (the count follows every change, not only the first look).
    headMaps(c.doc).pins.delete(ids[0] ?? '');
    expect(c.push()).toBeNull();
    c.doc.transact(() => pin(ids[MAX_PINS] ?? '', CAROL)(c.doc));
    expect(c.push()).toBeNull();
    expectRefused(server, carolAdmin, pin(ids[0] ?? '', CAROL), 'over_limit');
  });
});

describe('thread summaries and thread read positions', () => {
  it('refuses any client write to the derived thread summaries', () => {
    const { server, a } = room();
    const root = send(a, { content: 'root' });
    expectRefused(server, alice, (doc) => headMaps(doc).threads.set(root, { replyCount: 99, lastReplyAt: null, participants: [], segments: [] }), 'bad_layout');
    expect(HEAD_ROOT.threads).toBe('threads');
  });

  it('a thread read position is the user’s own, names messages of the room and never moves back', () => {
    const { server, a, b } = room();
    const root = send(a, { content: 'root' });
    const r1 = send(a, { content: 'r1', parentId: root });
    const r2 = send(a, { content: 'r2', parentId: root });
    b.pull();
    const key = threadReadKey({ rootId: root, userId: BOB, clientId: b.doc.clientID });
    headMaps(b.doc).threadReads.set(key, r2);
    expect(b.push()).toBeNull();
    const before = Buffer.from(server.state());
    headMaps(b.doc).threadReads.set(key, r1);
    expect(b.push()?.code).toBe('bad_read_position');
    expect(Buffer.from(server.state()).equals(before)).toBe(true);
    expectRefused(server, alice, (doc) => headMaps(doc).threadReads.set(threadReadKey({ rootId: root, userId: BOB, clientId: doc.clientID }), r2), 'forbidden');
    expectRefused(server, bob, (doc) => headMaps(doc).threadReads.set(threadReadKey({ rootId: root, userId: BOB, clientId: doc.clientID + 1 }), v7(Date.now() - 9)), 'unknown_message');
  });
});
