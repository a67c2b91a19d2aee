import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { decodeClientFrame, encodeFrame, type SyncFrame } from '../../shared/protocol/frames.ts';
import { createMessage } from '../../shared/roomDoc/messageOps.ts';
import { RoomConnection } from './RoomConnection.ts';
import { socketPerDocument } from './SyncSocket.ts';
import { FakeSocket, peerOf } from '../../test/support/fakeSocket.ts';
import { alice } from '../../test/support/roomDocFixtures.ts';

/** The sync frames sent: [type, payload]. */
function syncFrames(socket: FakeSocket): Array<[SyncFrame['type'], Uint8Array]> {
  return socket.sent.flatMap((bytes): Array<[SyncFrame['type'], Uint8Array]> => {
    const decoded = decodeClientFrame(bytes);
    if (!decoded.ok) throw new Error(decoded.reason);
    const frame = decoded.frame;
    if (frame.type === 'syncStep1') return [[frame.type, frame.stateVector]];
    if (frame.type === 'syncStep2' || frame.type === 'update') return [[frame.type, frame.update]];
    return [];
  });
}

const step1From = (serverDoc: Y.Doc): Uint8Array => encodeFrame({ type: 'syncStep1', stateVector: Y.encodeStateVector(serverDoc) });

const BUDGET = 16 * 1024;
const connections: RoomConnection[] = [];
afterEach(() => {
  for (const c of connections.splice(0)) c.close();
});

/**
 * Connects `doc` through a fake socket and plays an empty server's step 1; resolves once the
 * connection answered it (its step 2, and the updates that follow it, leave in one go).
 */
async function answerStep1(doc: Y.Doc): Promise<{ socket: FakeSocket; server: Y.Doc; connection: RoomConnection }> {
  const connection = new RoomConnection(peerOf(doc), {
    getToken: () => 'token',
    openSocket: socketPerDocument('http://127.0.0.1:1', FakeSocket),
    maxFrameBytes: BUDGET,
  });
  connections.push(connection);
  const socket = await FakeSocket.openFor(connection);
  const server = new Y.Doc();
  const answered = socket.nextSend();
  socket.receive(step1From(server));
  await answered;
  return { socket, server, connection };
}

/** answerStep1, with the server holding what the connection sent and the record cleared. */
async function handshake(doc: Y.Doc): Promise<{ socket: FakeSocket; server: Y.Doc; connection: RoomConnection }> {
  const connected = await answerStep1(doc);
  for (const [subtype, payload] of syncFrames(connected.socket)) if (subtype !== 'syncStep1') Y.applyUpdate(connected.server, payload);
  connected.socket.sent.length = 0;
  return connected;
}

describe('RoomConnection frames', () => {
  it('answers step 1 with a backlog over the budget as a step 2 followed by updates, every frame within the budget', async () => {
    const doc = new Y.Doc();
    for (let i = 0; i < 500; i++) createMessage(doc, alice, { content: `backlog ${i} `.padEnd(150, 'x') });
    expect(Y.encodeStateAsUpdate(doc).byteLength).toBeGreaterThan(4 * BUDGET);

    const { socket, server } = await answerStep1(doc);

    const frames = syncFrames(socket).filter(([subtype]) => subtype !== 'syncStep1');
    expect(frames.length).toBeGreaterThan(4);
    expect(frames[0]![0]).toBe('syncStep2');
    expect(frames.slice(1).every(([subtype]) => subtype === 'update')).toBe(true);
    for (const bytes of socket.sent) expect(bytes.byteLength).toBeLessThanOrEqual(BUDGET);
    for (const [, payload] of frames) {
      Y.applyUpdate(server, payload);
      expect(server.store.pendingStructs).toBeNull();
    }
    expect(Y.encodeStateAsUpdate(server)).toEqual(Y.encodeStateAsUpdate(doc));
  });

  it('sends the stored updates handed over in one turn as one frame, and a large one as several within the budget', async () => {
    const doc = new Y.Doc();
    const { socket, server, connection } = await handshake(doc);
    const updates: Uint8Array[] = [];
    doc.on('update', (u: Uint8Array) => updates.push(u));
    for (let i = 0; i < 50; i++) createMessage(doc, alice, { content: `live ${i}` });
    for (const u of updates.splice(0)) connection.sendUpdate(u);
    await Promise.resolve();
    const first = syncFrames(socket);
    expect(first).toHaveLength(1);
    Y.applyUpdate(server, first[0]![1]);

    socket.sent.length = 0;
    for (let i = 0; i < 400; i++) createMessage(doc, alice, { content: `burst ${i} `.padEnd(150, 'x') });
    for (const u of updates.splice(0)) connection.sendUpdate(u);
    await Promise.resolve();
    const frames = syncFrames(socket);
    expect(frames.length).toBeGreaterThan(2);
    expect(frames.length).toBeLessThan(20);
    for (const bytes of socket.sent) expect(bytes.byteLength).toBeLessThanOrEqual(BUDGET);
    expect(frames.every(([subtype]) => subtype === 'update')).toBe(true);
    for (const [, payload] of frames) {
      Y.applyUpdate(server, payload);
      expect(server.store.pendingStructs).toBeNull();
    }
    expect(Y.encodeStateAsUpdate(server)).toEqual(Y.encodeStateAsUpdate(doc));
  });
});

