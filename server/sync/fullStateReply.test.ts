import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { decodeServerFrame } from '../../shared/protocol/frames.ts';
import { MessageType } from '../../shared/protocol/messageTypes.ts';
import { createMessage } from '../../shared/roomDoc/messageOps.ts';
import { listMessages } from '../../shared/roomDoc/queries.ts';
import { messageTypeOf, type RawSocket } from '../../test/support/rawSocket.ts';
import { startWithRoom, type TwoMemberRoom } from '../../test/support/serverHarness.ts';
import { isStep2, openRaw, step1Frame, updateFrame } from '../../test/support/syncFrames.ts';
import { REPLY_FRAME_BYTES } from './StepTwoReplies.ts';

/** Joiners that hold nothing get the whole room from a shared reply; a change makes the next one fresh. */

let room: TwoMemberRoom;
let author: Y.Doc;
const sockets: RawSocket[] = [];

beforeAll(async () => {
  room = await startWithRoom();
  author = new Y.Doc();
});
afterAll(async () => {
  for (const s of sockets) s.close();
  author.destroy();
  await room.t.dispose();
});

/** Ana writes a message and waits for the server's ack: it is committed. */
async function anaSends(content: string): Promise<void> {
  const ana = await openRaw(room.t, room.roomId, room.ana);
  sockets.push(ana);
  const updates: Uint8Array[] = [];
  const collect = (u: Uint8Array) => updates.push(u);
  author.on('update', collect);
  const result = createMessage(author, { userId: room.ana.id, role: 'owner' }, { content });
  author.off('update', collect);
  if (!result.ok) throw new Error(result.message);
  const acked = ana.next((m) => messageTypeOf(m) === MessageType.Ack);
  for (const update of updates) ana.send(updateFrame(update));
  await acked;
}

/** A new joiner with an empty document: the step 2 it receives. */
async function joinEmpty(): Promise<Uint8Array> {
  const ben = await openRaw(room.t, room.roomId, room.ben);
  sockets.push(ben);
  const answer = ben.next(isStep2);
  ben.send(step1Frame());
  return answer;
}

const contentsOf = (step2: Uint8Array): string[] => {
  const decoded = decodeServerFrame(step2);
  if (!decoded.ok || decoded.frame?.type !== 'syncStep2') throw new Error('not a sync step 2');
  const doc = new Y.Doc();
  Y.applyUpdate(doc, decoded.frame.update);
  return listMessages(doc, { limit: 100 }).messages.map((m) => m.content);
};

describe('the full-state reply to joiners with nothing', () => {
  // That they share one encoding is SharedReply's unit test; over the wire, each must get the whole room.
  it('gives every joiner the whole room, also to joiners asking at once', async () => {
    await anaSends('first');
    const answers = await Promise.all([joinEmpty(), joinEmpty(), joinEmpty()]);
    for (const answer of answers) expect(contentsOf(answer)).toEqual(['first']);
  });

  it('is encoded again after any change, so a later joiner gets the change', async () => {
    const before = await joinEmpty();
    await anaSends('second');
    const after = await joinEmpty();
    expect(contentsOf(before)).toEqual(['first']);
    expect(contentsOf(after)).toEqual(['first', 'second']);
  });
});

describe('a long difference', () => {
  /** Whether a frame is an ack covering everything `doc` holds. */
  const acksAll = (doc: Y.Doc) => (m: Uint8Array): boolean => {
    const decoded = decodeServerFrame(m);
    if (!decoded.ok || decoded.frame?.type !== 'ack') return false;
    const acked = Y.decodeStateVector(decoded.frame.stateVector);
    return [...Y.decodeStateVector(Y.encodeStateVector(doc))].every(([client, clock]) => (acked.get(client) ?? 0) >= clock);
  };

  it('reaches a client far behind as a step 2 and updates of at most REPLY_FRAME_BYTES, which it applies in order', async () => {
    const before = Y.encodeStateAsUpdate(author);
    // About 3 MiB of messages, written in four updates that each fit one frame.
    const texts = Array.from({ length: 240 }, (_, i) => `${i} ${'w'.repeat(12_000)}`);
    const updates: Uint8Array[] = [];
    const collect = (u: Uint8Array) => updates.push(u);
    author.on('update', collect);
    for (let part = 0; part < 4; part++) {
      author.transact(() => {
        for (const content of texts.slice(part * 60, part * 60 + 60)) createMessage(author, { userId: room.ana.id, role: 'owner' }, { content });
      });
    }
    author.off('update', collect);
    const ana = await openRaw(room.t, room.roomId, room.ana);
    sockets.push(ana);
    const committed = ana.next(acksAll(author));
    for (const update of updates) ana.send(updateFrame(update));
    await committed;

    // A client holding what Ana had before: its difference is the 3 MiB, cut into frames.
    const doc = new Y.Doc();
    Y.applyUpdate(doc, before);
    const total = listMessages(author, { limit: 1000 }).messages.length;
    const sync: Uint8Array[] = [];
    const ben = await openRaw(room.t, room.roomId, room.ben);
    sockets.push(ben);
    const whole = ben.next((m) => {
      const decoded = decodeServerFrame(m);
      if (!decoded.ok || (decoded.frame?.type !== 'syncStep2' && decoded.frame?.type !== 'update')) return false;
      sync.push(m);
      Y.applyUpdate(doc, decoded.frame.update);
      return listMessages(doc, { limit: 1000 }).messages.length === total;
    });
    ben.send(step1Frame(Y.encodeStateVector(doc)));
    await whole;
    expect(doc.store.pendingStructs).toBeNull();
    expect(sync.length).toBeGreaterThanOrEqual(3);
    expect(isStep2(sync[0] ?? new Uint8Array())).toBe(true);
    for (const frame of sync) expect(frame.byteLength).toBeLessThanOrEqual(REPLY_FRAME_BYTES + 16);
    expect(listMessages(doc, { limit: 1000 }).messages.map((m) => m.content)).toEqual(listMessages(author, { limit: 1000 }).messages.map((m) => m.content));
  });
});
