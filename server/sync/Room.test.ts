import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { createLogger } from '../log.ts';
import { MemoryUpdateStore } from '../storage/MemoryUpdateStore.ts';
import { InlineCompactor } from '../storage/InlineCompactor.ts';
import { CommitQueue } from './CommitQueue.ts';
import { Room, type UpdateGate } from './Room.ts';
import { AWARENESS_LIMITS } from './RoomAwareness.ts';
import { CORE_COMMIT_STAGES } from './commit/commitStages.ts';
import { decodeAwarenessUpdate, encodeAwarenessUpdate } from '../../shared/protocol/awarenessUpdate.ts';
import { encodeFrame, type ServerFrame } from '../../shared/protocol/frames.ts';
import { MemoryPeer } from '../../test/support/memoryPeer.ts';
import { uuidv4 } from '../../shared/ids.ts';
import { createMessage } from '../../shared/roomDoc/messageOps.ts';
import { lastMessage } from '../../shared/roomDoc/queries.ts';
import { roomMaps } from '../../shared/roomDoc/layout.ts';

/*
 * Room on its own: peers in memory (no sockets, no server), a memory store, a real commit
 * queue flushed by hand. What the sync path promises, at the level of one room.
 */

const ana = { id: uuidv4(), name: 'Ana' };
const ben = { id: uuidv4(), name: 'Ben' };
const roomId = uuidv4();
/** Accepts everything from Ana, binding her new client ids; refuses everything from anyone else. */
const gate: UpdateGate = (room, peer, update) => {
  if (peer.user.id !== ana.id) return { ok: false, refusal: { code: 'forbidden', reason: 'only Ana writes here' } };
  const clients = new Set([...Y.decodeUpdate(update).structs].map((s) => s.id.client));
  return { ok: true, newClients: [...clients].filter((c) => room.clientOwners.ownerOf(c) === undefined) };
};

let store: MemoryUpdateStore;
let queue: CommitQueue;
let room: Room;
beforeEach(() => {
  store = new MemoryUpdateStore();
  queue = new CommitQueue(store);
  const logger = createLogger('silent');
  room = Room.load(roomId, store, { compactor: new InlineCompactor(store, logger), queue, logger, gate, stages: CORE_COMMIT_STAGES, compactUpdates: 1000, compactBytes: 1 << 30, maxDocBytes: 1 << 20 });
});
afterEach(() => room.destroy());

/** A message Ana writes on her own replica, as the update her client would send. */
function anasMessage(content: string, doc = new Y.Doc()): Uint8Array {
  roomMaps(doc);
  const before = Y.encodeStateVector(doc);
  createMessage(doc, { userId: ana.id, role: 'member' }, { content });
  return Y.encodeStateAsUpdate(doc, before);
}

const stored = (): Y.Doc => {
  const doc = new Y.Doc();
  const { snapshot, updates } = store.load(roomId);
  for (const u of [snapshot, ...updates]) if (u) Y.applyUpdate(doc, u);
  return doc;
};

describe('Room', () => {
  it('greets a joiner with its step 1 and the awareness states', () => {
    const peer = new MemoryPeer(ana);
    room.join(peer);
    expect(peer.received.map((f) => f.type)).toEqual(['syncStep1', 'awareness']);
  });

  it('relays an update to the other peers and acknowledges its sender only after the commit', () => {
    const writer = new MemoryPeer(ana);
    const reader = new MemoryPeer(ben);
    const stock = new MemoryPeer(ana, false);
    for (const p of [writer, reader, stock]) room.join(p);
    const update = anasMessage('hello');
    room.receive(writer, encodeFrame({ type: 'update', update }));
    expect(reader.framesOf('update')).toEqual([]);
    expect(writer.framesOf('ack')).toEqual([]);
    expect(store.load(roomId).updates).toHaveLength(0);

    queue.flush();
    expect(store.load(roomId).updates).toHaveLength(1);
    expect(reader.framesOf('update').map((f) => f.update)).toEqual([update]);
    expect(stock.framesOf('update')).toHaveLength(1);
    expect(writer.framesOf('update')).toEqual([]);
    const [ack] = writer.framesOf('ack');
    expect(Y.decodeStateVector(ack!.stateVector)).toEqual(Y.decodeStateVector(Y.encodeStateVector(room.doc)));
    // A stock client (no ?parley=1) never gets Parley's frames.
    expect(stock.framesOf('ack')).toEqual([]);
  });

  it('refuses an update the gate refuses: only its sender is closed, and nothing is applied, stored or relayed', () => {
    const forger = new MemoryPeer(ben);
    const reader = new MemoryPeer(ana);
    room.join(forger);
    room.join(reader);
    room.receive(forger, encodeFrame({ type: 'update', update: anasMessage('as Ana') }));
    queue.flush();
    expect(forger.closedWith).toEqual({ name: 'UpdateRefused', reason: 'only Ana writes here', errorCode: 'forbidden' });
    expect(reader.closed).toBe(false);
    expect(reader.framesOf('update')).toEqual([]);
    expect(lastMessage(room.doc)).toBeNull();
    expect(store.load(roomId).updates).toHaveLength(0);
  });

  it('refuses an update past the size limit with DocumentTooLarge', () => {
    const writer = new MemoryPeer(ana);
    room.join(writer);
    room.receive(writer, encodeFrame({ type: 'update', update: anasMessage('x'.repeat(1500)) }));
    queue.flush();
    expect(room.admit(ana.id, room.maxDocBytes)?.code).toBe('document_too_large');
    const big = new Uint8Array(room.maxDocBytes);
    room.receive(writer, encodeFrame({ type: 'update', update: big }));
    expect(writer.closedWith?.name).toBe('DocumentTooLarge');
    expect(writer.closedWith?.errorCode).toBe('document_too_large');
  });

  it('answers a step 1 only once what was applied before it is committed', () => {
    const writer = new MemoryPeer(ana);
    const joiner = new MemoryPeer(ben);
    room.join(writer);
    room.join(joiner);
    room.receive(writer, encodeFrame({ type: 'update', update: anasMessage('first') }));
    room.receive(joiner, encodeFrame({ type: 'syncStep1', stateVector: Y.encodeStateVector(new Y.Doc()) }));
    expect(joiner.framesOf('syncStep2')).toEqual([]);
    queue.flush();
    const [reply] = joiner.framesOf('syncStep2');
    const doc = new Y.Doc();
    Y.applyUpdate(doc, reply!.update);
    expect(lastMessage(doc)?.content).toBe('first');
    expect(lastMessage(stored())?.content).toBe('first');
  });

  it('closes a peer that sends a malformed frame or state vector with ProtocolError, and only that peer', () => {
    const bad = new MemoryPeer(ana);
    const worse = new MemoryPeer(ana);
    const bystander = new MemoryPeer(ben);
    for (const p of [bad, worse, bystander]) room.join(p);
    room.receive(bad, new Uint8Array([0, 2, 0xff]));
    room.receive(worse, encodeFrame({ type: 'syncStep1', stateVector: new Uint8Array([5, 0xff]) }));
    expect(bad.closedWith).toMatchObject({ name: 'ProtocolError', reason: 'malformed sync message' });
    expect(worse.closedWith).toMatchObject({ name: 'ProtocolError', reason: 'malformed state vector' });
    expect(bystander.closed).toBe(false);
  });

  it("stamps a peer's awareness with its identity, ignores spoofs of another peer's client id, and drops a leaver's states", async () => {
    const anaPeer = new MemoryPeer(ana);
    const benPeer = new MemoryPeer(ben);
    room.join(anaPeer);
    room.join(benPeer);
    const awareness = (clientId: number, clock: number, state: Record<string, unknown>) =>
      encodeFrame({ type: 'awareness', update: encodeAwarenessUpdate([{ clientId, clock, state }]) });
    room.receive(anaPeer, awareness(11, 1, { user: { id: ben.id, name: 'Not Ana' }, typing: true }));
    room.receive(benPeer, awareness(11, 2, { user: { id: ben.id, name: 'Ben' }, typing: false }));
    expect(room.awareness.getStates().get(11)).toEqual({ user: { id: ana.id, name: 'Ana' }, typing: true });

    // Relayed in one batch to every peer.
    const relayed = await new Promise<ServerFrame>((resolve) => {
      const send = benPeer.send.bind(benPeer);
      benPeer.send = (frame) => {
        send(frame);
        resolve(benPeer.received.at(-1)!);
      };
    });
    expect(relayed.type === 'awareness' && decodeAwarenessUpdate(relayed.update)?.map((e) => e.clientId)).toContain(11);

    room.leave(anaPeer);
    expect(room.awareness.getStates().has(11)).toBe(false);
  });

  it('bounds awareness: client ids per connection and per user, and the bytes of the room; refused entries keep the connection', () => {
    const frame = (from: number, count: number, bytes: number) =>
      encodeFrame({ type: 'awareness', update: encodeAwarenessUpdate(Array.from({ length: count }, (_, i) => ({ clientId: from + i, clock: 1, state: { pad: 'x'.repeat(bytes) } }))) });
    const refusals = (peer: MemoryPeer) => peer.framesOf('error').filter((e) => e.code === 'awareness_refused').map((e) => e.reason);
    const held = (userId: string) => [...room.awareness.getStates().values()].filter((state) => (state as { user?: { id?: string } }).user?.id === userId).length;

    const flood = new MemoryPeer(ben);
    room.join(flood);
    room.receive(flood, frame(1000, 1000, 10));
    expect(held(ben.id)).toBe(AWARENESS_LIMITS.idsPerConnection);
    expect(refusals(flood)).toEqual([`a connection may hold awareness states for at most ${AWARENESS_LIMITS.idsPerConnection} client ids (${1000 - AWARENESS_LIMITS.idsPerConnection} entries refused)`]);
    expect(flood.closedWith).toBeNull();

    for (let c = 0; c < 6; c++) {
      const more = new MemoryPeer(ben);
      room.join(more);
      room.receive(more, frame(5000 + c * 100, AWARENESS_LIMITS.idsPerConnection, 10));
    }
    expect(held(ben.id)).toBe(AWARENESS_LIMITS.idsPerUser);

    // Many users with 4 KiB states: the room stops at its byte bound, whoever asks.
    const users = Array.from({ length: 80 }, (_, i) => ({ id: uuidv4(), name: `U${i}` }));
    const peers = users.map((user) => new MemoryPeer(user));
    peers.forEach((peer, i) => {
      room.join(peer);
      room.receive(peer, frame(20_000 + i * 100, AWARENESS_LIMITS.idsPerConnection, 4000));
    });
    const bytes = [...room.awareness.getStates().values()].reduce((sum: number, state) => sum + JSON.stringify(state).length, 0);
    expect(bytes).toBeLessThanOrEqual(AWARENESS_LIMITS.roomBytes);
    expect(bytes).toBeGreaterThan(AWARENESS_LIMITS.roomBytes - 5000);
    expect(peers.some((peer) => refusals(peer).some((reason) => reason.includes('bytes')))).toBe(true);

    // A leaving connection frees what it held: another may take that room.
    const before = refusals(peers.at(-1) ?? flood).length;
    for (const peer of peers.slice(0, 5)) room.leave(peer);
    room.receive(peers.at(-1) ?? flood, frame(90_000, 1, 4000));
    expect(refusals(peers.at(-1) ?? flood)).toHaveLength(before);
  });
});
