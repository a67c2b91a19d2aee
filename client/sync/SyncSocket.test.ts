import { afterEach, describe, expect, it, vi } from 'vitest';
import * as Y from 'yjs';
import { RoomConnection, type ConnectionState } from './RoomConnection.ts';
import { SyncSocket } from './SyncSocket.ts';
import { encodeFrame } from '../../shared/protocol/frames.ts';
import { encodeOnChannel } from '../../shared/protocol/muxFrames.ts';
import { FakeSocket, peerOf } from '../../test/support/fakeSocket.ts';

/*
 * Silence on the shared socket: a document nobody writes to (a sealed segment, which has no
 * awareness either) stays quiet for as long as it is open; only a socket that heard nothing at all
 * is dead. Timers are faked: the test moves the clock.
 */

const SILENCE_MS = 1_000;
const emptyUpdate = encodeFrame({ type: 'update', update: Y.encodeStateAsUpdate(new Y.Doc()) });
const serverStep2 = encodeFrame({ type: 'syncStep2', update: Y.encodeStateAsUpdate(new Y.Doc()) });

afterEach(() => {
  vi.useRealTimers();
});

function connectionOn(shared: SyncSocket): { connection: RoomConnection; states: ConnectionState[] } {
  const connection = new RoomConnection(peerOf(new Y.Doc()), {
    getToken: () => 'token',
    openSocket: shared.opener,
    silenceMs: SILENCE_MS,
    backoff: { baseMs: 60_000, maxMs: 60_000 },
  });
  const states: ConnectionState[] = [];
  connection.on('state', (s) => states.push(s));
  return { connection, states };
}

describe('SyncSocket silence', () => {
  it('keeps a quiet channel while another channel hears the server, and drops the socket once nothing is heard', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const shared = new SyncSocket({ serverUrl: 'http://127.0.0.1:1', WebSocket: FakeSocket });
    const quiet = connectionOn(shared);
    const busy = connectionOn(shared);
    const created = FakeSocket.next();
    quiet.connection.connect();
    await vi.advanceTimersByTimeAsync(0);
    busy.connection.connect();
    const ws = await created;
    ws.open();
    await vi.advanceTimersByTimeAsync(0);
    // Channel 1 is the quiet document's, channel 2 the busy one's.
    ws.receive(encodeOnChannel(1, serverStep2));
    ws.receive(encodeOnChannel(2, serverStep2));
    expect([quiet.connection.state, busy.connection.state]).toEqual(['online', 'online']);

    // Four silence periods on channel 1, while channel 2 hears an update every 400 ms.
    for (let i = 0; i < 10; i++) {
      await vi.advanceTimersByTimeAsync(400);
      ws.receive(encodeOnChannel(2, emptyUpdate));
    }
    expect(quiet.states).toEqual(['connecting', 'online']);
    expect(quiet.connection.synced).toBe(true);

    // Nothing on any channel for longer than the silence: the socket is dead, every channel goes.
    await vi.advanceTimersByTimeAsync(SILENCE_MS * 2);
    expect([quiet.connection.state, busy.connection.state]).toEqual(['offline', 'offline']);
    quiet.connection.close();
    busy.connection.close();
    shared.close();
  });
});
