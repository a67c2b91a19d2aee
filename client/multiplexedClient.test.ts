import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import * as Y from 'yjs';
import type { ChatRoom } from './room/ChatRoom.ts';
import type { WebSocketConstructor } from './sync/WebSocketLike.ts';
import { createMessage } from '../shared/roomDoc/messageOps.ts';
import { listMessages } from '../shared/roomDoc/queries.ts';
import { connectProvider, startTestServer, synced, untilDoc, type TestServer } from '../test/support/serverHarness.ts';
import { freshDbName, openTestClient, until, untilOnline } from '../test/support/clientHarness.ts';

let t: TestServer;
beforeAll(async () => {
  // Fifty rooms made at once by one user: over the default creation burst.
  t = await startTestServer({ PARLEY_ROOM_CREATE_BURST: '100' });
});
afterAll(async () => {
  await t.dispose();
});

/** The `ws` WebSocket, counting the sockets it opens and keeping them. */
function countingWebSocket(): { ctor: WebSocketConstructor; urls: string[]; sockets: WebSocket[] } {
  const urls: string[] = [];
  const sockets: WebSocket[] = [];
  class Counting extends WebSocket {
    constructor(url: string) {
      super(url);
      urls.push(new URL(url).pathname);
      sockets.push(this);
    }
  }
  return { ctor: Counting as unknown as WebSocketConstructor, urls, sockets };
}

const contents = (doc: Y.Doc): string[] => listMessages(doc, { limit: 100 }).messages.map((m) => m.content);
const hears = (room: ChatRoom, content: string): Promise<void> =>
  until((check) => room.on('change', check), () => room.messages({ limit: 100 }).messages.some((m) => m.content === content), `"${content}" to arrive`);

describe('one socket per device', () => {
  it('syncs 50 rooms over one WebSocket, next to a stock provider, and all of them come back on one new socket after it drops', async () => {
    const ana = await t.login('Ana');
    const ben = await t.login('Ben');
    const roomIds = await Promise.all(Array.from({ length: 50 }, () => t.createRoom(ana, [ben])));
    const counting = countingWebSocket();
    const client = await openTestClient({ serverUrl: t.url, token: ana.token, dbName: freshDbName('mux'), WebSocket: counting.ctor, background: { enabled: false } });
    const rooms = await Promise.all(roomIds.map((id) => client.openRoom(id)));
    await Promise.all(rooms.map((room) => untilOnline(room)));
    expect(counting.urls).toEqual(['/ws/sync']);

    // Every room writes and is acknowledged on that one socket.
    const sent = await Promise.all(rooms.map((room, i) => room.send({ content: `room ${i}` })));
    await Promise.all(sent.map((m, i) => rooms[i]!.whenSent(m.id)));

    // A stock provider in room 7 sees the SDK's message, and the SDK hears the provider's.
    const stock = connectProvider(t, roomIds[7]!, ben);
    await synced(stock);
    expect(contents(stock.doc)).toEqual(['room 7']);
    createMessage(stock.doc, { userId: ben.id, role: 'member' }, { content: 'from a stock provider' });
    await hears(rooms[7]!, 'from a stock provider');

    // The socket drops: every room reconnects, on one new socket.
    counting.sockets[0]!.terminate();
    await until((check) => rooms[0]!.on('connection', check), () => rooms[0]!.connectionState !== 'online', 'the drop to be noticed');
    await Promise.all(rooms.map((room) => untilOnline(room)));
    expect(counting.urls).toEqual(['/ws/sync', '/ws/sync']);
    const after = await rooms[7]!.send({ content: 'after the drop' });
    await rooms[7]!.whenSent(after.id);
    await untilDoc(stock.doc, (doc) => contents(doc).includes('after the drop'));
    stock.destroy();
    await client.close();
  });

  it('a room the user may not open ends its own channel (access denied) while the others sync on', async () => {
    const ana = await t.login('Ana');
    const cleo = await t.login('Cleo');
    const mine = await t.createRoom(ana, []);
    const notMine = await t.createRoom(cleo, []);
    const client = await openTestClient({ serverUrl: t.url, token: ana.token, dbName: freshDbName('mux-denied'), background: { enabled: false } });
    const room = await client.openRoom(mine);
    await untilOnline(room);
    const deniedError = new Promise<string>((resolve) => client.on('error', (e) => e.code === 'access_denied' && resolve(e.message)));
    const denied = await client.openRoom(notMine);
    expect(await deniedError).toMatch(/^4403: not a member/);
    const message = await room.send({ content: 'still syncing' });
    await room.whenSent(message.id);
    expect(denied.connectionState).not.toBe('online');
    await client.close();
  });

  it('multiplex: false keeps a socket per room on /sync/<roomId>', async () => {
    const ana = await t.login('Ana');
    const roomIds = await Promise.all(Array.from({ length: 3 }, () => t.createRoom(ana, [])));
    const counting = countingWebSocket();
    const client = await openTestClient({ serverUrl: t.url, token: ana.token, dbName: freshDbName('per-room'), WebSocket: counting.ctor, multiplex: false, background: { enabled: false } });
    await Promise.all(roomIds.map(async (id) => untilOnline(await client.openRoom(id))));
    expect(counting.urls.sort()).toEqual(roomIds.map((id) => `/sync/${id}`).sort());
    await client.close();
  });
});
