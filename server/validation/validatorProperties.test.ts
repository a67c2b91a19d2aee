import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as Y from 'yjs';
import type { Actor } from '../../shared/roomDoc/actor.ts';
import { parseMessageEntry, reactionKey, readKey, roomMaps } from '../../shared/roomDoc/layout.ts';
import { createMessage } from '../../shared/roomDoc/messageOps.ts';
import { listMessages, listThread } from '../../shared/roomDoc/queries.ts';
import { addReaction } from '../../shared/roomDoc/reactionOps.ts';
import { readPosition, readPositions } from '../../shared/roomDoc/readOps.ts';
import { ALICE, BOB, CAROL, DAVE, alice, bob, carolAdmin } from '../../test/support/roomDocFixtures.ts';
import { HEAD_ROOT, threadReadKey } from '../../shared/roomDoc/headMaps.ts';
import { markThreadRead } from '../../shared/roomDoc/threadOps.ts';
import { pinMessage, unpinMessage } from '../../shared/roomDoc/pinOps.ts';
import { pinsOf } from '../../shared/roomDoc/pinReads.ts';
import { uuidv7, uuidv7Time } from '../../shared/ids.ts';
import { Device, ValidatingServer } from '../../test/support/ValidatingServer.ts';
import { DOC_OPS, applyDocOp, nth } from '../../test/support/roomDocOps.ts';

/*
 * Properties of the validator with real Yjs replicas: (1) any interleaving of legitimate
 * operations made with shared/roomDoc, on devices that go offline and come back in any order, is
 * accepted and converges; (2) after that, every forged change is refused and leaves the server's
 * document byte-identical.
 */

const ACTORS: readonly Actor[] = [alice, alice, bob, carolAdmin];
const REACTIONS = ['👍', '🎉', '+1'];

const OPERATIONS = [...DOC_OPS, 'pin', 'unpin', 'mention', 'reply', 'quote', 'thread-read', 'push', 'pull'] as const;
type OperationKind = (typeof OPERATIONS)[number];
interface Operation {
  readonly device: number;
  readonly kind: OperationKind;
  readonly pick: number;
}

const FORGERIES = [
  'edit-others',
  'delete-others',
  'tombstone-others',
  'react-as-other',
  'unreact-others',
  'forge-sender',
  'system-message',
  'steal-client-id',
  'unknown-key',
  'unknown-root',
  'read-backwards',
  'read-as-other',
  'pin-as-member',
  'unpin-as-member',
  'pin-unknown-message',
  'mention-non-member',
  'reply-to-reply',
  'reply-to-unknown',
  'move-into-thread',
  'write-thread-summary',
  'thread-read-as-other',
] as const;
type ForgeryKind = (typeof FORGERIES)[number];

const operation = fc.record({ device: fc.nat(ACTORS.length - 1), kind: fc.constantFrom(...OPERATIONS), pick: fc.nat() });
const forgery = fc.record({ kind: fc.constantFrom(...FORGERIES), pick: fc.nat() });

const view = (doc: Y.Doc) => ({
  messages: listMessages(doc, { limit: 10_000 }).messages,
  reads: Object.fromEntries([...readPositions(doc)].sort()),
  pins: pinsOf(doc),
});

function apply(devices: readonly Device[], op: Operation): void {
  const device = devices[op.device];
  if (!device) return;
  if (applyDocOp(device.doc, device.actor, op.kind, op.pick, { reactions: REACTIONS })) return;
  const target = nth(listMessages(device.doc, { limit: 10_000 }).messages, op.pick);
  // Pins and mentions as the SDK writes them (a member's pin is refused by the operation itself, before any write).
  if (op.kind === 'pin' && target) return void pinMessage(device.doc, device.actor, { messageId: target.id });
  if (op.kind === 'unpin' && target) return void unpinMessage(device.doc, device.actor, target.id);
  if (op.kind === 'mention') {
    const result = createMessage(device.doc, device.actor, { content: 'hey', mentionedUsers: [nth([ALICE, BOB, CAROL], op.pick) ?? BOB] });
    if (!result.ok) throw new Error(result.message);
    return;
  }
  // Threads as the SDK writes them: a reply to a root, a quote, a read position in a thread.
  const root = nth(listMessages(device.doc, { limit: 10_000 }).messages.filter((m) => m.parentId === undefined), op.pick);
  if (op.kind === 'reply' || op.kind === 'quote') {
    if (!root) return;
    const relation = op.kind === 'reply' ? { parentId: root.id, showInChannel: op.pick % 3 === 0 } : { quotedMessageId: root.id };
    const result = createMessage(device.doc, device.actor, { content: op.kind, ...relation });
    if (!result.ok) throw new Error(result.message);
    return;
  }
  if (op.kind === 'thread-read') {
    const reply = root ? listThread(device.doc, root.id, { limit: 10_000 }).messages.at(-1) : undefined;
    if (root && reply) markThreadRead(device.doc, device.actor, root.id, reply.id);
    return;
  }
  if (op.kind === 'pin' || op.kind === 'unpin') return;
  if (op.kind === 'pull') return device.pull();
  const refusal = device.push();
  if (refusal) throw new Error(`a legitimate update was refused: ${refusal.code}: ${refusal.reason}`);
}

/** Makes one forged update on a fresh replica of the server's room; null when the room offers no target for it. */
function forge(server: ValidatingServer, devices: readonly Device[], kind: ForgeryKind, pick: number): [string, Uint8Array] | null {
  const forger = new Device(bob, server);
  const { messages, deletions, reactions, reads } = roomMaps(forger.doc);
  const live = listMessages(forger.doc, { limit: 10_000 }).messages.filter((m) => m.deletedAt === null);
  const others = live.filter((m) => m.senderId !== BOB);
  const target = nth(others, pick);
  const value = target ? parseMessageEntry(target.id, messages.get(target.id)) : null;
  const update = (change: () => void): [string, Uint8Array] => [BOB, forger.capture(change)];
  switch (kind) {
    case 'edit-others':
      return value && update(() => messages.set(value.id, { ...value, content: 'forged' }));
    case 'delete-others':
      return target ? update(() => deletions.set(target.id, { deletedAt: Date.now(), deletedBy: BOB })) : null;
    case 'tombstone-others':
      return value && update(() => messages.set(value.id, { ...value, content: '', meta: {} }));
    case 'react-as-other':
      return target ? update(() => reactions.set(reactionKey({ messageId: target.id, userId: ALICE, reaction: '👍' }), Date.now())) : null;
    case 'unreact-others': {
      const key = [...reactions.keys()].find((k) => !k.includes(BOB));
      return key ? update(() => reactions.delete(key)) : null;
    }
    case 'forge-sender': {
      const at = Date.now();
      return update(() => {
        const result = createMessage(forger.doc, { userId: CAROL, role: 'member' }, { content: 'as carol', now: at });
        if (!result.ok) throw new Error(result.message);
      });
    }
    case 'system-message':
      return update(() => {
        const at = Date.now();
        const id = '019b76da-a800-7000-8000-000000000001';
        messages.set(id, { id, senderId: null, type: 'system', content: 'system', meta: {}, createdAt: at });
      });
    case 'steal-client-id': {
      const victim = nth(devices.filter((d) => d.actor.userId !== BOB && server.owners.ownerOf(d.doc.clientID) !== undefined), pick);
      if (!victim || !live[0]) return null;
      forger.doc.clientID = victim.doc.clientID;
      const messageId = live[0].id;
      // A reaction no legitimate operation uses: one Bob already has would write nothing to refuse.
      return update(() => void addReaction(forger.doc, bob, { messageId, reaction: '🥷' }));
    }
    case 'unknown-key':
      return update(() => messages.set('not-a-message-id', { hello: 'world' }));
    case 'unknown-root':
      return update(() => forger.doc.getMap('settings').set('admin', BOB));
    case 'read-backwards': {
      // Bob's own device, fully synced: move its key back to an older message.
      const own = devices.find((d) => d.actor.userId === BOB);
      const position = own ? readPosition(server.doc, BOB) : null;
      const older = live.find((m) => position !== null && m.id < position);
      const key = own ? readKey({ userId: BOB, clientId: own.doc.clientID }) : null;
      if (!own || !older || !key || reads.get(key) !== position) return null;
      return [BOB, own.capture(() => roomMaps(own.doc).reads.set(key, older.id))];
    }
    case 'read-as-other':
      return target ? update(() => reads.set(readKey({ userId: ALICE, clientId: forger.doc.clientID }), target.id)) : null;
    case 'pin-as-member':
      return target ? update(() => forger.doc.getMap(HEAD_ROOT.pins).set(target.id, { pinnedAt: Date.now(), pinnedBy: BOB })) : null;
    case 'unpin-as-member': {
      const pinned = nth(pinsOf(forger.doc), pick);
      return pinned ? update(() => forger.doc.getMap(HEAD_ROOT.pins).delete(pinned.messageId)) : null;
    }
    case 'pin-unknown-message': {
      // An admin, allowed to pin, naming a message the room does not have.
      const admin = new Device(carolAdmin, server);
      return [CAROL, admin.capture(() => admin.doc.getMap(HEAD_ROOT.pins).set(uuidv7(), { pinnedAt: Date.now(), pinnedBy: CAROL }))];
    }
    case 'mention-non-member':
      return update(() => {
        const result = createMessage(forger.doc, bob, { content: 'hi @Dave', mentionedUsers: [DAVE] });
        if (!result.ok) throw new Error(result.message);
      });
    case 'reply-to-reply': {
      // A raw write: the operations refuse it before writing, a stock client might not.
      const reply = nth(live.filter((m) => m.parentId !== undefined), pick);
      const at = Date.now();
      const id = uuidv7(at);
      return reply ? update(() => messages.set(id, { id, senderId: BOB, type: 'text', content: 'nested', meta: {}, createdAt: uuidv7Time(id) ?? at, parentId: reply.id })) : null;
    }
    case 'reply-to-unknown': {
      const at = Date.now();
      const id = uuidv7(at);
      return update(() => messages.set(id, { id, senderId: BOB, type: 'text', content: 'to nowhere', meta: {}, createdAt: uuidv7Time(id) ?? at, parentId: uuidv7(at - 10) }));
    }
    case 'move-into-thread': {
      // Bob edits his own message into a thread: the thread is part of a message's identity.
      const own = nth(live.filter((m) => m.senderId === BOB && m.parentId === undefined), pick);
      const ownValue = own ? parseMessageEntry(own.id, messages.get(own.id)) : null;
      const root = live.find((m) => m.parentId === undefined && m.id !== own?.id);
      return ownValue && root ? update(() => messages.set(ownValue.id, { ...ownValue, content: 'moved', editedAt: Date.now(), parentId: root.id })) : null;
    }
    case 'write-thread-summary':
      return target ? update(() => forger.doc.getMap(HEAD_ROOT.threads).set(target.id, { replyCount: 1_000, lastReplyAt: null, participants: [], segments: [] })) : null;
    case 'thread-read-as-other':
      return target ? update(() => forger.doc.getMap(HEAD_ROOT.threadReads).set(threadReadKey({ rootId: target.id, userId: ALICE, clientId: forger.doc.clientID }), target.id)) : null;
  }
}

describe('validator properties', () => {
  it('accepts every legitimate interleaving, converges, then refuses every forgery without a trace', () => {
    const exercised = new Set<ForgeryKind>();
    fc.assert(
      fc.property(fc.array(operation, { minLength: 10, maxLength: 120 }), fc.array(forgery, { minLength: 1, maxLength: 12 }), (ops, forgeries) => {
        const server = new ValidatingServer([alice, bob, carolAdmin]);
        const devices = ACTORS.map((actor) => new Device(actor, server));
        for (const op of ops) apply(devices, op);
        // Everyone comes back online, in order, then catches up.
        for (const device of devices) {
          const refusal = device.push();
          expect(refusal, refusal?.reason).toBeNull();
        }
        for (const device of devices) device.pull();
        const expected = view(server.doc);
        for (const device of devices) expect(view(device.doc)).toEqual(expected);

        for (const { kind, pick } of forgeries) {
          const forged = forge(server, devices, kind, pick);
          if (!forged) continue;
          const [userId, update] = forged;
          exercised.add(kind);
          const before = server.state();
          const refusal = server.submit(userId, update);
          expect(refusal, `${kind} was accepted`).not.toBeNull();
          expect(Buffer.from(server.state()).equals(Buffer.from(before)), `${kind} changed the document`).toBe(true);
        }
      }),
      { numRuns: 200, seed: 20261124 },
    );
    // Every kind of forgery was actually tried (none always found its room without a target).
    expect([...exercised].sort()).toEqual([...FORGERIES].sort());
  });
});
