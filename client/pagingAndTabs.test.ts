import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../test/support/serverHarness.ts';
import { freshDbName, openTestClient, until } from '../test/support/clientHarness.ts';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t.dispose();
});

describe('paging forward, following other tabs, reconnecting at once', () => {
  it('reconnectNow replaces the room sockets at once and keeps syncing', async () => {
    const ana = await t.login('Ana');
    const ben = await t.login('Ben');
    const roomId = await t.createRoom(ana, [ben]);
    // A backoff far longer than the test: only reconnectNow can bring the socket back in time.
    const a = await openTestClient({ serverUrl: t.url, token: ana.token, dbName: freshDbName('rc'), background: { enabled: false }, reconnect: { baseMs: 60_000, maxMs: 60_000 } });
    const b = await openTestClient({ serverUrl: t.url, token: ben.token, dbName: freshDbName('rc-b'), background: { enabled: false } });
    const ra = await a.openRoom(roomId);
    const rb = await b.openRoom(roomId);
    await until((check) => ra.on('connection', check), () => ra.connectionState === 'online', 'ana online');
    const states: string[] = [];
    ra.on('connection', (state) => states.push(state));
    await a.reconnectNow();
    await until((check) => ra.on('connection', check), () => ra.connectionState === 'online', 'ana online again');
    expect(states).toEqual(['offline', 'connecting', 'online']);
    const sent = await ra.send({ content: 'after reconnecting' });
    await ra.whenSent(sent.id);
    await until((check) => rb.on('change', check), () => rb.getMessage(sent.id) !== null, 'ben to get it');
    await Promise.all([a.close(), b.close()]);
  });

  it('messages({ afterId }) pages forward from any message, and refuses beforeId with afterId', async () => {
    const ana = await t.login('Ana');
    const roomId = await t.createRoom(ana, []);
    const client = await openTestClient({ serverUrl: t.url, token: ana.token, dbName: freshDbName('page'), background: { enabled: false } });
    const room = await client.openRoom(roomId);
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) ids.push((await room.send({ content: `m${i}` })).id);
    const forward = room.messages({ afterId: ids[2], limit: 4 });
    expect(forward.messages.map((m) => m.content)).toEqual(['m3', 'm4', 'm5', 'm6']);
    expect(forward.hasMore).toBe(true);
    const tail = room.messages({ afterId: ids[8], limit: 10 });
    expect(tail.messages.map((m) => m.content)).toEqual(['m9', 'm10', 'm11']);
    expect(tail.hasMore).toBe(false);
    expect(() => room.messages({ afterId: ids[1], beforeId: ids[5] })).toThrow(/not both/);
    await client.close();
  });

  it("a tab's room list follows what another tab of the same database stores, with no socket of its own", async () => {
    const ana = await t.login('Ana');
    const ben = await t.login('Ben');
    const roomId = await t.createRoom(ana, [ben]);
    const dbName = freshDbName('tabs');
    const tab1 = await openTestClient({ serverUrl: t.url, token: ana.token, dbName, background: { enabled: false } });
    const tab2 = await openTestClient({ serverUrl: t.url, token: ana.token, dbName, background: { enabled: false } });
    await tab2.refreshRooms();
    const inTab1 = await tab1.openRoom(roomId);
    const b = await openTestClient({ serverUrl: t.url, token: ben.token, dbName: freshDbName('ben'), background: { enabled: false } });
    const sent = await (await b.openRoom(roomId)).send({ content: 'hello from Ben' });

    const summary = () => tab2.rooms().find((r) => r.room.id === roomId);
    await until((check) => tab2.on('rooms', check), () => summary()?.lastMessage?.id === sent.id && summary()?.unreadCount === 1, 'tab 2 to show the message as unread');
    await until((check) => inTab1.on('change', check), () => inTab1.getMessage(sent.id) !== null, 'tab 1 to have it');
    await inTab1.markRead(sent.id);
    await until((check) => tab2.on('rooms', check), () => summary()?.unreadCount === 0, 'tab 2 to follow the read position');
    await Promise.all([tab1.close(), tab2.close(), b.close()]);
  });
});
