import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { changesNothing, deleteRanges } from './deleteRanges.ts';

function docWith(keys: number): Y.Doc {
  const doc = new Y.Doc();
  const map = doc.getMap('m');
  for (let i = 0; i < keys; i++) map.set(`k${i}`, i);
  return doc;
}

describe('changesNothing', () => {
  const server = docWith(10);
  server.getMap('m').delete('k3');
  server.getMap('m').delete('k4');
  server.getMap('m').delete('k7');
  const stateVector = Y.encodeStateVector(server);
  const known = deleteRanges(Y.encodeStateAsUpdate(server));
  const sv = Y.decodeStateVector(stateVector);

  it('holds for an up-to-date peer’s answer (its whole delete set, no items) and for an empty one', () => {
    const peer = new Y.Doc();
    Y.applyUpdate(peer, Y.encodeStateAsUpdate(server));
    expect(changesNothing(Y.encodeStateAsUpdate(peer, stateVector), sv, known)).toBe(true);
    expect(changesNothing(Y.encodeStateAsUpdate(new Y.Doc(), stateVector), sv, known)).toBe(true);
    // Items the server holds already change nothing either.
    expect(changesNothing(Y.encodeStateAsUpdate(peer), sv, known)).toBe(true);
  });

  it('fails for a new item, a new deletion, and bytes that are no update', () => {
    const peer = new Y.Doc();
    Y.applyUpdate(peer, Y.encodeStateAsUpdate(server));
    const before = Y.encodeStateVector(peer);
    peer.getMap('m').delete('k5');
    expect(changesNothing(Y.encodeStateAsUpdate(peer, before), sv, known)).toBe(false);
    const writer = new Y.Doc();
    Y.applyUpdate(writer, Y.encodeStateAsUpdate(server));
    writer.getMap('m').set('new', 1);
    expect(changesNothing(Y.encodeStateAsUpdate(writer, stateVector), sv, known)).toBe(false);
    expect(changesNothing(new Uint8Array([9, 9, 9]), sv, known)).toBe(false);
  });

  it('merges touching ranges, so a deletion spanning two of them is known', () => {
    const ranges = deleteRanges(Y.encodeStateAsUpdate(server));
    const [flat] = [...ranges.values()];
    // k3 and k4 were set one after the other: one range; k7 another.
    expect(flat).toEqual([3, 5, 7, 8]);
  });
});
