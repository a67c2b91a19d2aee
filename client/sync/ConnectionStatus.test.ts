import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { ConnectionStatus } from './ConnectionStatus.ts';
import { RoomConnection, type ConnectionState } from './RoomConnection.ts';
import { encodeFrame } from '../../shared/protocol/frames.ts';
import { socketPerDocument } from './SyncSocket.ts';
import { FakeSocket, peerOf } from '../../test/support/fakeSocket.ts';

const newConnection = (): RoomConnection =>
  new RoomConnection(peerOf(new Y.Doc()), { getToken: () => 'token', openSocket: socketPerDocument('http://127.0.0.1:1', FakeSocket), backoff: { baseMs: 60_000, maxMs: 60_000 } });

describe('ConnectionStatus', () => {
  it('is online with no connection once the server was reachable, and offline once it was not', () => {
    const seen: ConnectionState[] = [];
    const status = new ConnectionStatus((s) => seen.push(s));
    status.setReachable(true);
    status.setReachable(false);
    expect(seen).toEqual(['online', 'offline']);
  });

  it('follows its connections: connecting while one tries, online once one is synced, offline when the last goes', async () => {
    const seen: ConnectionState[] = [];
    const status = new ConnectionStatus((s) => seen.push(s));
    status.setReachable(true);
    const a = newConnection();
    const b = newConnection();
    const untrackA = status.track(a);
    const untrackB = status.track(b);
    // Tracked but idle connections count as offline, whatever REST found.
    expect(status.state).toBe('offline');
    const socket = FakeSocket.next();
    a.connect();
    expect(status.state).toBe('connecting');
    const s = await socket;
    s.open();
    s.receive(encodeFrame({ type: 'syncStep2', update: Y.encodeStateAsUpdate(new Y.Doc()) }));
    expect(status.state).toBe('online');
    a.close();
    untrackA();
    expect(status.state).toBe('offline');
    untrackB();
    b.close();
    expect(status.state).toBe('online');
    expect(seen).toEqual(['online', 'offline', 'connecting', 'online', 'offline', 'online']);
  });
});
