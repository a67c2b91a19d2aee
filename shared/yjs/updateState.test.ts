import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { deleteRanges } from './deleteRanges.ts';
import { stateOfDecoded } from './updateState.ts';

const sameAsYjs = (update: Uint8Array): void => {
  const state = stateOfDecoded(Y.decodeUpdate(update));
  expect(Y.decodeStateVector(state.stateVector)).toEqual(Y.decodeStateVector(Y.encodeStateVectorFromUpdate(update)));
  expect(state.deleteSet).toEqual(deleteRanges(update));
};

describe('stateOfDecoded', () => {
  it('gives what encodeStateVectorFromUpdate and deleteRanges give, for documents of several clients with deletions', () => {
    const docs = [1, 2, 3].map((client) => {
      const doc = new Y.Doc();
      doc.clientID = client;
      return doc;
    });
    for (let round = 0; round < 30; round++) {
      for (const doc of docs) {
        const map = doc.getMap('messages');
        map.set(`m${round}-${doc.clientID}`, { text: 'x'.repeat(round) });
        if (round % 3 === 0) map.delete(`m${round - 3}-${doc.clientID}`);
        doc.getArray('log').push([round]);
        if (round % 4 === 0) doc.getArray('log').delete(0, 1);
      }
      for (const from of docs) for (const to of docs) if (from !== to) Y.applyUpdate(to, Y.encodeStateAsUpdate(from, Y.encodeStateVector(to)));
    }
    sameAsYjs(Y.encodeStateAsUpdate(docs[0]!));
  });

  it('stops a client at a gap or a skip, as Yjs does, and counts an empty update as nothing', () => {
    const doc = new Y.Doc();
    doc.clientID = 7;
    const text = doc.getText('t');
    const updates: Uint8Array[] = [];
    doc.on('update', (u: Uint8Array) => updates.push(u));
    for (let i = 0; i < 5; i++) text.insert(0, `${i}`);
    // Updates 0, 1 and 3, 4: merged, they hold a skip where update 2 was.
    const withSkip = Y.mergeUpdates([updates[0]!, updates[1]!, updates[3]!, updates[4]!]);
    expect(Y.decodeUpdate(withSkip).structs.some((s) => s instanceof Y.Skip)).toBe(true);
    sameAsYjs(withSkip);
    // Starting past clock 0: nothing counted for that client.
    sameAsYjs(Y.mergeUpdates([updates[3]!, updates[4]!]));
    sameAsYjs(Y.encodeStateAsUpdate(new Y.Doc()));
  });
});
