import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { RoomConnection } from './RoomConnection.ts';
import type { ConnectionState } from './RoomConnection.ts';
import { CloseCode } from '../../shared/protocol/closeCodes.ts';
import { decodeClientFrame, encodeFrame } from '../../shared/protocol/frames.ts';
import { socketPerDocument } from './SyncSocket.ts';
import { FakeSocket, peerOf } from '../../test/support/fakeSocket.ts';

/*
 * RoomConnection's life, driven through a fake socket: which phase each server move leads to,
 * and the public state and events that follow from it.
 */

const connections: RoomConnection[] = [];
afterEach(() => {
  for (const c of connections.splice(0)) c.close();
});

function connection(opts: { refused?: (code: string, reason: string) => void; renewals?: boolean[] } = {}): { connection: RoomConnection; states: ConnectionState[] } {
  const c = new RoomConnection(peerOf(new Y.Doc(), opts.refused), {
    getToken: ({ renew }) => {
      opts.renewals?.push(renew);
      return 'token';
    },
    openSocket: socketPerDocument('http://127.0.0.1:1', FakeSocket),
    // Long enough that no retry fires during a test: a retry shows as state 'offline' and no socket.
    backoff: { baseMs: 60_000, maxMs: 60_000 },
  });
  connections.push(c);
  const states: ConnectionState[] = [];
  c.on('state', (s) => states.push(s));
  return { connection: c, states };
}

const opened = (c: RoomConnection): Promise<FakeSocket> => FakeSocket.openFor(c);

const serverStep2 = encodeFrame({ type: 'syncStep2', update: Y.encodeStateAsUpdate(new Y.Doc()) });

describe('RoomConnection lifecycle', () => {
  it('is connecting until the server answers with its step 2, then online and synced', async () => {
    const { connection: c, states } = connection();
    const socket = await opened(c);
    expect(decodeClientFrame(socket.sent[0]!)).toMatchObject({ ok: true, frame: { type: 'syncStep1' } });
    expect([c.state, c.synced]).toEqual(['connecting', false]);
    const synced = new Promise((resolve) => c.on('synced', resolve));
    socket.receive(serverStep2);
    await synced;
    expect([c.state, c.synced]).toEqual(['online', true]);
    expect(states).toEqual(['connecting', 'online']);
  });

  it('renews its token once after 4401 and reconnects at once; a second 4401 backs off', async () => {
    const renewals: boolean[] = [];
    const { connection: c, states } = connection({ renewals });
    const first = await opened(c);
    const second = FakeSocket.next();
    first.serverCloses(CloseCode.Unauthorized);
    const renewed = await second;
    expect(renewals).toEqual([false, true]);
    renewed.serverCloses(CloseCode.Unauthorized);
    expect(c.state).toBe('offline');
    expect(states.at(-1)).toBe('offline');
    expect(renewals).toEqual([false, true]);
  });

  it('stops for good on 4403 and says why; connect() then does nothing', async () => {
    const { connection: c } = connection();
    const socket = await opened(c);
    const stopped = new Promise((resolve) => c.on('stopped', resolve));
    socket.receive(encodeFrame({ type: 'error', code: 'Forbidden', reason: 'not a member of this room' }));
    socket.serverCloses(CloseCode.Forbidden);
    expect(String(await stopped)).toContain('not a member of this room');
    expect(c.stopped?.code).toBe('access_denied');
    let another = false;
    void FakeSocket.next().then(() => (another = true));
    c.connect();
    await Promise.resolve();
    expect(another).toBe(false);
  });

  it('tells the replica about a refused update (4422) with the code from the error frame, then reads on holding its writes until told to send again', async () => {
    const refusals: string[] = [];
    const { connection: c } = connection({ refused: (code, reason) => refusals.push(`${code}: ${reason}`) });
    const events: string[] = [];
    c.on('refused', (e) => events.push(e.code));
    const socket = await opened(c);
    socket.receive(encodeFrame({ type: 'error', code: 'forbidden', reason: 'not your message' }));
    socket.serverCloses(CloseCode.UpdateRefused);
    expect(refusals).toEqual(['forbidden: not your message']);
    expect(events).toEqual(['update_refused']);
    expect([c.stopped, c.holding]).toEqual([null, true]);

    // The next socket reads: the server's step 1 gets no step 2, live updates are not sent.
    const next = FakeSocket.next();
    c.reconnectNow();
    const reading = await next;
    reading.open();
    reading.receive(encodeFrame({ type: 'syncStep1', stateVector: Y.encodeStateVector(new Y.Doc()) }));
    reading.receive(serverStep2);
    await new Promise((resolve) => setImmediate(resolve));
    expect(c.state).toBe('online');
    c.sendUpdate(new Uint8Array([0, 0]));
    await Promise.resolve();
    expect(reading.sent.map((f) => decodeClientFrame(f)).map((d) => (d.ok ? d.frame?.type : 'bad'))).toEqual(['syncStep1']);

    // Sending again: a fresh socket whose handshake carries the held writes.
    const resumed = FakeSocket.next();
    c.holdWrites(false);
    const sending = await resumed;
    sending.open();
    sending.receive(encodeFrame({ type: 'syncStep1', stateVector: Y.encodeStateVector(new Y.Doc()) }));
    await new Promise((resolve) => setImmediate(resolve));
    expect(sending.sent.map((f) => decodeClientFrame(f)).map((d) => (d.ok ? d.frame?.type : 'bad'))).toEqual(['syncStep1', 'syncStep2']);
  });

  it('reconnectNow drops the socket and opens the next one at once, backoff or not', async () => {
    const { connection: c } = connection();
    const first = await opened(c);
    first.serverCloses(1006);
    expect(c.state).toBe('offline');
    const next = FakeSocket.next();
    c.reconnectNow();
    expect(await next).not.toBe(first);
    expect(c.state).toBe('connecting');
  });

  it('close() ends everything: offline, no socket, no retry', async () => {
    const { connection: c, states } = connection();
    const socket = await opened(c);
    c.close();
    expect(socket.readyState).toBe(3);
    expect(states.at(-1)).toBe('offline');
    c.connect();
    expect(c.state).toBe('offline');
  });
});
