import * as Y from 'yjs';
import { describe, expect, it } from 'vitest';
import { sameStateVector } from './sameStateVector.ts';

describe('sameStateVector', () => {
  it('is true for one state reached in two orders (its encoding is canonical), false for another state', () => {
    const a = new Y.Doc();
    const b = new Y.Doc();
    a.getMap('m').set('a', 1);
    b.getMap('m').set('b', 2);
    // One document meets a's client first, the other b's.
    const ab = new Y.Doc();
    const ba = new Y.Doc();
    for (const [doc, first, second] of [[ab, a, b], [ba, b, a]] as const) {
      Y.applyUpdate(doc, Y.encodeStateAsUpdate(first));
      Y.applyUpdate(doc, Y.encodeStateAsUpdate(second));
    }
    expect(sameStateVector(Y.encodeStateVector(ab), Y.encodeStateVector(ba))).toBe(true);
    a.getMap('m').set('c', 3);
    Y.applyUpdate(ab, Y.encodeStateAsUpdate(a));
    expect(sameStateVector(Y.encodeStateVector(ab), Y.encodeStateVector(ba))).toBe(false);
  });
});
