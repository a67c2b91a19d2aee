import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import * as Y from 'yjs';
import type { WebSocketConstructor } from './sync/WebSocketLike.ts';
import { listMessages } from '../shared/roomDoc/queries.ts';
import { FlakyProxy } from '../test/support/flakyProxy.ts';
import { prng } from '../test/support/prng.ts';
import { connectProvider, startTestServer, synced, untilDoc, type TestServer } from '../test/support/serverHarness.ts';
import { freshDbName, openTestClient, untilOnline } from '../test/support/clientHarness.ts';

/*
 * The SDK's one shared socket on a link that delays, stalls and cuts: every room on it reconnects
 * after each cut, and every message written meanwhile reaches the server exactly once.
 */

let t: TestServer;
let proxy: FlakyProxy;
beforeAll(async () => {
  t = await startTestServer();
  proxy = await FlakyProxy.start({ host: '127.0.0.1', port: Number(new URL(t.url).port) });
});
afterAll(async () => {
  await proxy.close();
  await t.dispose();
});

describe('the shared socket on a flaky link', () => {
  it('keeps every message of three rooms through cuts and stalls, each stored once', async () => {
    const rng = prng(21);
    const ana = await t.login('Ana');
    const ben = await t.login('Ben');
    const roomIds = [await t.createRoom(ana, [ben]), await t.createRoom(ana, [ben]), await t.createRoom(ana, [ben])];
    let sockets = 0;
    class Counting extends WebSocket {
      constructor(url: string) {
        super(url);
        sockets++;
      }
    }
    const client = await openTestClient({
      serverUrl: `http://127.0.0.1:${proxy.port}`,
      token: ana.token,
      dbName: freshDbName('flaky-mux'),
      background: { enabled: false },
      WebSocket: Counting as unknown as WebSocketConstructor,
    });
    const rooms = await Promise.all(roomIds.map((id) => client.openRoom(id)));
    await Promise.all(rooms.map((room) => untilOnline(room)));

    const sent: Array<{ room: number; id: string; content: string }> = [];
    for (let i = 0; i < 45; i++) {
      const roll = rng.int(5);
      if (roll === 0) proxy.cut();
      else if (roll === 1) proxy.stall();
      else if (roll === 2) proxy.delay(rng.int(60));
      else proxy.release();
      const room = i % 3;
      const content = `through the weather ${i}`;
      sent.push({ room, id: (await rooms[room]!.send({ content })).id, content });
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    proxy.heal();
    await Promise.all(sent.map(({ room, id }) => rooms[room]!.whenSent(id)));

    for (const [i, roomId] of roomIds.entries()) {
      const reader = connectProvider(t, roomId, ben, new Y.Doc());
      await synced(reader);
      const expected = sent.filter((s) => s.room === i).map((s) => s.content);
      const contents = (doc: Y.Doc) => listMessages(doc, { limit: 1000 }).messages.map((m) => m.content);
      await untilDoc(reader.doc, (doc) => contents(doc).length >= expected.length);
      expect(contents(reader.doc)).toEqual(expected);
      reader.destroy();
    }
    // The cuts took the shared socket down, and every room came back on the next one.
    expect(sockets).toBeGreaterThan(1);
    await client.close();
  });
});
