import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as Y from 'yjs';
import { roomSplitOptions } from '../roomDoc/roomSplitOptions.ts';
import { splitUpdate } from './splitUpdate.ts';
import type { Actor } from '../roomDoc/actor.ts';
import { listMessages } from '../roomDoc/queries.ts';
import { createMessage, editMessage } from '../roomDoc/messageOps.ts';
import { addReaction } from '../roomDoc/reactionOps.ts';
import { markRead, readPositions } from '../roomDoc/readOps.ts';
import { alice, bob, carolAdmin } from '../../test/support/roomDocFixtures.ts';
import { DOC_OPS as ROOM_DOC_OPS, applyDocOp as applyRoomDocOp } from '../../test/support/roomDocOps.ts';
import { Device, ValidatingServer } from '../../test/support/ValidatingServer.ts';

/** Number of structs a chunk carries (a chunk over the budget must carry exactly one). */
const structCount = (update: Uint8Array): number => Y.decodeUpdate(update).structs.filter((s) => !(s instanceof Y.Skip)).length;

/** Applies in order, checking after each that nothing waits for a later chunk. */
function applyInOrder(doc: Y.Doc, chunks: readonly Uint8Array[]): void {
  for (const [i, chunk] of chunks.entries()) {
    Y.applyUpdate(doc, chunk);
    if (doc.store.pendingStructs !== null || doc.store.pendingDs !== null) throw new Error(`chunk ${i} of ${chunks.length} depends on a later one`);
  }
}

const sameState = (a: Y.Doc, b: Y.Doc): void => {
  expect(Y.encodeStateVector(a)).toEqual(Y.encodeStateVector(b));
  const content = (doc: Y.Doc) => ({ t: doc.getText('t').toString(), a: doc.getArray('a').toJSON(), m: doc.getMap('m').toJSON() });
  expect(content(a)).toEqual(content(b));
  expect(Y.equalDeleteSets(Y.createDeleteSetFromStructStore(a.store), Y.createDeleteSetFromStructStore(b.store))).toBe(true);
};

const checkBudget = (chunks: readonly Uint8Array[], budget: number): void => {
  for (const chunk of chunks) if (chunk.byteLength > budget) expect(structCount(chunk)).toBe(1);
};

// Generic documents: several replicas, concurrent text and array inserts, map overwrites, deletes, nested types.
const DOC_OPS = ['text', 'textDelete', 'array', 'arrayDelete', 'map', 'mapDelete', 'nested', 'sync', 'big'] as const;
const docOp = fc.record({ replica: fc.nat(3), kind: fc.constantFrom(...DOC_OPS), pick: fc.nat(10_000), other: fc.nat(3) });

function applyDocOp(replicas: readonly Y.Doc[], op: { replica: number; kind: (typeof DOC_OPS)[number]; pick: number; other: number }): void {
  const doc = replicas[op.replica]!;
  const text = doc.getText('t');
  const array = doc.getArray<unknown>('a');
  const map = doc.getMap<unknown>('m');
  switch (op.kind) {
    case 'text':
      text.insert(op.pick % (text.length + 1), `s${op.pick}`);
      return;
    case 'textDelete':
      if (text.length > 0) text.delete(op.pick % text.length, Math.min(3, text.length - (op.pick % text.length)));
      return;
    case 'array':
      array.insert(op.pick % (array.length + 1), [op.pick, { n: op.pick }]);
      return;
    case 'arrayDelete':
      if (array.length > 0) array.delete(op.pick % array.length, 1);
      return;
    case 'map':
      map.set(`k${op.pick % 5}`, `v${op.pick}`);
      return;
    case 'mapDelete':
      map.delete(`k${op.pick % 5}`);
      return;
    case 'nested': {
      const existing = map.get('nested');
      if (existing instanceof Y.Array) existing.insert(0, [`n${op.pick}`]);
      else {
        const nested = new Y.Array<unknown>();
        nested.insert(0, [`n${op.pick}`]);
        map.set('nested', nested);
      }
      return;
    }
    case 'sync': {
      const other = replicas[op.other]!;
      Y.applyUpdate(other, Y.encodeStateAsUpdate(doc, Y.encodeStateVector(other)));
      return;
    }
    case 'big':
      // One struct of a few hundred bytes: larger than the smallest budgets.
      map.set(`big${op.pick % 3}`, 'x'.repeat(300 + (op.pick % 200)));
  }
}

describe('splitUpdate', () => {
  it('returns an update within the budget unchanged', () => {
    const doc = new Y.Doc();
    doc.getMap('m').set('a', 1);
    const update = Y.encodeStateAsUpdate(doc);
    expect(splitUpdate(update, 1024)).toEqual([update]);
  });

  it('for random documents of several clients, the chunks applied in order to the base state give the state of the whole diff, each depending only on earlier ones and within the budget unless a single struct', () => {
    fc.assert(
      fc.property(fc.array(docOp, { maxLength: 60 }), fc.array(docOp, { minLength: 1, maxLength: 120 }), fc.integer({ min: 40, max: 2_000 }), (before, after, budget) => {
        const replicas = [0, 1, 2, 3].map(() => new Y.Doc());
        for (const op of before) applyDocOp(replicas, op);
        // The receiver holds what replica 0 had; replica 0 then gets everyone's later work.
        const base = Y.encodeStateAsUpdate(replicas[0]!);
        const baseVector = Y.encodeStateVector(replicas[0]!);
        for (const op of after) applyDocOp(replicas, op);
        for (const other of replicas.slice(1)) Y.applyUpdate(replicas[0]!, Y.encodeStateAsUpdate(other));
        const diff = Y.encodeStateAsUpdate(replicas[0]!, baseVector);

        const whole = new Y.Doc();
        Y.applyUpdate(whole, base);
        Y.applyUpdate(whole, diff);
        const chunks = splitUpdate(diff, budget);
        const split = new Y.Doc();
        Y.applyUpdate(split, base);
        applyInOrder(split, chunks);
        sameState(split, whole);
        sameState(split, replicas[0]!);
        checkBudget(chunks, budget);
      }),
      { numRuns: 300 },
    );
  });

  it('splits a delete set too large for one chunk into several', () => {
    const doc = new Y.Doc();
    const array = doc.getArray<number>('a');
    for (let i = 0; i < 2_000; i++) array.push([i]);
    const base = Y.encodeStateAsUpdate(doc);
    const vector = Y.encodeStateVector(doc);
    // Every other element: 1,000 separate delete ranges, and no new structs.
    for (let i = 1_000; i > 0; i--) array.delete(i * 2 - 1, 1);
    const diff = Y.encodeStateAsUpdate(doc, vector);
    const chunks = splitUpdate(diff, 512);
    expect(chunks.length).toBeGreaterThan(2);
    const receiver = new Y.Doc();
    Y.applyUpdate(receiver, base);
    applyInOrder(receiver, chunks);
    sameState(receiver, doc);
    for (const chunk of chunks) expect(chunk.byteLength).toBeLessThanOrEqual(512);
  });

  it('sends a struct larger than the budget alone', () => {
    const doc = new Y.Doc();
    doc.getMap('m').set('small', 1);
    doc.getMap('m').set('big', 'y'.repeat(5_000));
    doc.getMap('m').set('after', 2);
    const chunks = splitUpdate(Y.encodeStateAsUpdate(doc), 1_000);
    const big = chunks.filter((c) => c.byteLength > 1_000);
    expect(big).toHaveLength(1);
    expect(structCount(big[0]!)).toBe(1);
    const receiver = new Y.Doc();
    applyInOrder(receiver, chunks);
    sameState(receiver, doc);
  });
});

// Room documents through the server's validator: every chunk of a device's backlog is accepted.
const ACTORS: readonly Actor[] = [alice, alice, bob, carolAdmin];
const ROOM_OPS = [...ROOM_DOC_OPS, 'push', 'pull'] as const;
const roomOp = fc.record({ device: fc.nat(ACTORS.length - 1), kind: fc.constantFrom(...ROOM_OPS), pick: fc.nat() });

/** Pushes a device's backlog as the connection does: split, each chunk its own update. */
function pushSplit(device: Device, budget: number): void {
  const chunks = splitUpdate(device.diff(), budget, roomSplitOptions(device.doc));
  checkBudget(chunks, budget);
  for (const [i, chunk] of chunks.entries()) {
    const refusal = device.server.submit(device.actor.userId, chunk);
    if (refusal) throw new Error(`chunk ${i} of ${chunks.length} was refused: ${refusal.code}: ${refusal.reason}`);
  }
}

function applyRoomOp(devices: readonly Device[], op: { device: number; kind: (typeof ROOM_OPS)[number]; pick: number }, budget: number): void {
  const device = devices[op.device]!;
  // Messages of varied length, so that chunks cut at many different places.
  if (applyRoomDocOp(device.doc, device.actor, op.kind, op.pick, { content: `message ${op.pick} `.padEnd(20 + (op.pick % 200), '.') })) return;
  if (op.kind === 'push') pushSplit(device, budget);
  else device.pull();
}

describe('splitUpdate and the server validator', () => {
  it('every chunk of a legitimate offline backlog (sends, edits, deletes of others by an admin, reactions, reads) is accepted, and the server converges', () => {
    fc.assert(
      fc.property(fc.array(roomOp, { minLength: 1, maxLength: 150 }), fc.integer({ min: 1_500, max: 4_000 }), (ops, budget) => {
        const server = new ValidatingServer([alice, bob, carolAdmin]);
        const devices = ACTORS.map((actor) => new Device(actor, server));
        for (const op of ops) applyRoomOp(devices, op, budget);
        for (const device of devices) pushSplit(device, budget);
        for (const device of devices) device.pull();
        const view = (doc: Y.Doc) => ({ messages: listMessages(doc, { limit: 10_000 }).messages, reads: Object.fromEntries([...readPositions(doc)].sort()) });
        for (const device of devices) expect(view(device.doc)).toEqual(view(server.doc));
      }),
      { numRuns: 200 },
    );
  });

  it('a backlog of 3,000 messages, edits and reactions splits into accepted chunks under 64 KiB', () => {
    const server = new ValidatingServer([alice, bob, carolAdmin]);
    const device = new Device(alice, server);
    const ids: string[] = [];
    for (let i = 0; i < 3_000; i++) {
      const created = createMessage(device.doc, alice, { content: `backlog ${i} `.padEnd(150, 'x') });
      if (created.ok) ids.push(created.id);
      if (i % 7 === 0 && ids.length > 1) editMessage(device.doc, alice, { id: ids[ids.length - 2]!, content: `edited ${i}` });
      if (i % 11 === 0) addReaction(device.doc, alice, { messageId: ids[ids.length - 1]!, reaction: '👍' });
      if (i % 13 === 0) markRead(device.doc, alice, ids[ids.length - 1]!);
    }
    const diff = device.diff();
    const chunks = splitUpdate(diff, 64 * 1024, roomSplitOptions(device.doc));
    expect(diff.byteLength).toBeGreaterThan(5 * 64 * 1024);
    for (const chunk of chunks) {
      expect(chunk.byteLength).toBeLessThanOrEqual(64 * 1024);
      expect(server.submit(alice.userId, chunk)).toBeNull();
    }
    expect(Y.encodeStateAsUpdate(server.doc)).toEqual(Y.encodeStateAsUpdate(device.doc));
  });
});
