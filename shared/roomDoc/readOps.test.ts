import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { readKey, roomMaps } from './layout.ts';
import { createMessage } from './messageOps.ts';
import { markRead, readPosition, readPositions } from './readOps.ts';
import { ALICE, BOB, T0, alice, bob, docWithClient, exchange, sent, v7 } from '../../test/support/roomDocFixtures.ts';

/** A room with `n` messages one second apart, the same in every document given. */
function seeded(docs: readonly Y.Doc[], n: number): string[] {
  const [first] = docs;
  if (!first) throw new Error('no docs');
  const ids = Array.from({ length: n }, (_, i) => sent(createMessage(first, bob, { id: v7(T0 + i * 1000), content: `m${i}`, now: T0 + i * 1000 })));
  for (const doc of docs) if (doc !== first) exchange(first, doc);
  return ids;
}

const at = (ids: readonly string[], i: number): string => {
  const id = ids[i];
  if (id === undefined) throw new Error(`no message ${i}`);
  return id;
};

describe('markRead', () => {
  it('moves forward only', () => {
    const doc = docWithClient(10);
    const ids = seeded([doc], 5);
    expect(readPosition(doc, ALICE)).toBeNull();
    expect(markRead(doc, alice, at(ids, 2))).toEqual({ ok: true, moved: true });
    expect(markRead(doc, alice, at(ids, 1))).toEqual({ ok: true, moved: false });
    expect(markRead(doc, alice, at(ids, 2))).toEqual({ ok: true, moved: false });
    expect(readPosition(doc, ALICE)).toBe(at(ids, 2));
    expect(markRead(doc, alice, at(ids, 4))).toEqual({ ok: true, moved: true });
    expect(readPosition(doc, ALICE)).toBe(at(ids, 4));
  });

  it('writes the key of its own user and device', () => {
    const doc = docWithClient(4242);
    const ids = seeded([doc], 1);
    markRead(doc, alice, at(ids, 0));
    expect(roomMaps(doc).reads.toJSON()).toEqual({ [readKey({ userId: ALICE, clientId: 4242 })]: at(ids, 0) });
  });

  it('answers not_found for unknown or malformed ids', () => {
    const doc = new Y.Doc();
    seeded([doc], 1);
    expect(markRead(doc, alice, v7(T0 + 1, 9))).toMatchObject({ ok: false, code: 'not_found' });
    expect(markRead(doc, alice, 'zzz')).toMatchObject({ ok: false, code: 'not_found' });
  });

  it('converges to the maximum across two devices of one user that read concurrently', () => {
    const phone = docWithClient(1);
    const laptop = docWithClient(2);
    const ids = seeded([phone, laptop], 6);
    markRead(phone, alice, at(ids, 5));
    markRead(laptop, alice, at(ids, 3));
    exchange(phone, laptop);
    expect(readPosition(phone, ALICE)).toBe(at(ids, 5));
    expect(readPosition(laptop, ALICE)).toBe(at(ids, 5));
    expect(markRead(laptop, alice, at(ids, 4))).toEqual({ ok: true, moved: false });
  });

  it('deletes the user’s superseded keys, but a concurrent higher position survives the delete', () => {
    const phone = docWithClient(1);
    const laptop = docWithClient(2);
    const ids = seeded([phone, laptop], 7);
    const aliceKeys = (doc: Y.Doc) => [...roomMaps(doc).reads.keys()].filter((key) => key.startsWith(ALICE)).sort();
    markRead(laptop, alice, at(ids, 1));
    markRead(laptop, bob, at(ids, 0));
    exchange(phone, laptop);
    // The phone saw the laptop's key at 1 and deletes it; meanwhile the laptop moves that key to 5.
    markRead(phone, alice, at(ids, 3));
    expect(aliceKeys(phone)).toEqual([readKey({ userId: ALICE, clientId: 1 })]);
    expect(roomMaps(phone).reads.has(readKey({ userId: BOB, clientId: 2 }))).toBe(true);
    markRead(laptop, alice, at(ids, 5));
    exchange(phone, laptop);
    for (const doc of [phone, laptop]) {
      expect(readPosition(doc, ALICE)).toBe(at(ids, 5));
      expect(aliceKeys(doc)).toHaveLength(2);
    }
    markRead(phone, alice, at(ids, 6));
    exchange(phone, laptop);
    for (const doc of [phone, laptop]) {
      expect(aliceKeys(doc)).toEqual([readKey({ userId: ALICE, clientId: 1 })]);
      expect(readPosition(doc, BOB)).toBe(at(ids, 0));
    }
  });

  it('never moves backwards and converges to the maximum under random interleavings', () => {
    const phone = docWithClient(1);
    const laptop = docWithClient(2);
    const ids = seeded([phone, laptop], 40);
    let seed = 12345;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    let highest = '';
    const seen = new Map<Y.Doc, string>();
    for (let step = 0; step < 300; step++) {
      const device = random(2) === 0 ? phone : laptop;
      const target = at(ids, random(ids.length));
      markRead(device, alice, target);
      if (target > highest) highest = target;
      if (random(3) === 0) exchange(phone, laptop);
      for (const doc of [phone, laptop]) {
        const position = readPosition(doc, ALICE) ?? '';
        expect(position >= (seen.get(doc) ?? '')).toBe(true);
        seen.set(doc, position);
      }
    }
    exchange(phone, laptop);
    expect(readPosition(phone, ALICE)).toBe(highest);
    expect(readPosition(laptop, ALICE)).toBe(highest);
    // Cleanup keeps the map small: at most one key per device.
    expect(roomMaps(phone).reads.size).toBeLessThanOrEqual(2);
  });
});

describe('readPositions', () => {
  it('maps every user to their highest position and skips malformed entries', () => {
    const doc = docWithClient(7);
    const ids = seeded([doc], 3);
    markRead(doc, alice, at(ids, 2));
    markRead(doc, bob, at(ids, 0));
    const reads = roomMaps(doc).reads;
    reads.set(`${BOB}|99`, at(ids, 1));
    reads.set(`${BOB}|98`, 'not-an-id');
    reads.set(`${BOB}|98|x`, at(ids, 2));
    reads.set(`${BOB}`, at(ids, 2));
    reads.set(`${ALICE}|01`, v7(T0 + 99_000));
    reads.set(`${ALICE}|5`, 42);
    expect(readPositions(doc)).toEqual(new Map([[ALICE, at(ids, 2)], [BOB, at(ids, 1)]]));
    expect(readPosition(doc, BOB)).toBe(at(ids, 1));
  });
});
