import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DexieLocalStore } from './store/DexieLocalStore.ts';
import { IDBKeyRange, indexedDB } from 'fake-indexeddb';
import { connectProvider, startTestServer, synced, type TestServer, type TestUser } from '../test/support/serverHarness.ts';
import { freshDbName, openTestClient } from '../test/support/clientHarness.ts';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t.dispose();
});

/** The Yjs client ids that wrote to the room, as the server holds it. */
async function clientIdsOnServer(roomId: string, reader: TestUser): Promise<number[]> {
  const provider = connectProvider(t, roomId, reader);
  try {
    await synced(provider);
    return [...provider.doc.store.clients.keys()].sort();
  } finally {
    provider.destroy();
  }
}

describe('Yjs client ids', () => {
  it('reloading ten times adds no new client id to the room', async () => {
    const ana = await t.login('Ana');
    const bob = await t.login('Bob');
    const roomId = await t.createRoom(ana, [bob]);
    const dbName = freshDbName('reload');
    const ids = new Set<number>();
    for (let reload = 0; reload < 10; reload++) {
      const client = await openTestClient({ serverUrl: t.url, token: ana.token, dbName });
      ids.add(client.clientId);
      const room = await client.openRoom(roomId);
      const message = await room.send({ content: `load ${reload}` });
      await room.whenSent(message.id);
      await client.close();
    }
    expect(ids.size).toBe(1);
    expect(await clientIdsOnServer(roomId, bob)).toEqual([...ids]);
  });

  it('two tabs open at once never share a client id; the id freed by a closed tab is reused', async () => {
    const ana = await t.login('Ana');
    const dbName = freshDbName('tabs');
    const first = await openTestClient({ serverUrl: t.url, token: ana.token, dbName });
    const second = await openTestClient({ serverUrl: t.url, token: ana.token, dbName });
    expect(second.clientId).not.toBe(first.clientId);
    const firstId = first.clientId;
    await first.close();
    const third = await openTestClient({ serverUrl: t.url, token: ana.token, dbName });
    expect(third.clientId).toBe(firstId);
    await second.close();
    await third.close();
  });

  it('takes a fresh id when the server holds more under the id than the device (local data lost), and keeps sending', async () => {
    const ana = await t.login('Ana');
    const bob = await t.login('Bob');
    const roomId = await t.createRoom(ana, [bob]);
    const dbName = freshDbName('lost');
    const before = await openTestClient({ serverUrl: t.url, token: ana.token, dbName });
    const oldId = before.clientId;
    const room = await before.openRoom(roomId);
    for (let i = 0; i < 3; i++) await room.whenSent((await room.send({ content: `before ${i}` })).id);
    await before.close();

    // The device loses the room's data but keeps its client ids (a partial restore, say).
    const store = await DexieLocalStore.open({ name: dbName, indexedDB, IDBKeyRange });
    await store.deleteRoom(roomId);
    await store.close();

    const after = await openTestClient({ serverUrl: t.url, token: ana.token, dbName });
    expect(after.clientId).toBe(oldId);
    const retired = new Promise<number>((resolve) => after.on('clientId', resolve));
    const again = await after.openRoom(roomId);
    expect(await retired).toBe(after.clientId);
    expect(after.clientId).not.toBe(oldId);
    expect(again.doc.clientID).toBe(after.clientId);
    const message = await again.send({ content: 'after the loss' });
    await again.whenSent(message.id);
    expect(again.messages({ limit: 10 }).messages.map((m) => m.content)).toEqual(['before 0', 'before 1', 'before 2', 'after the loss']);
    expect(await clientIdsOnServer(roomId, bob)).toEqual([oldId, after.clientId].sort());
    // The retired id is never handed out again.
    await after.close();
    const next = await openTestClient({ serverUrl: t.url, token: ana.token, dbName });
    expect(next.clientId).not.toBe(oldId);
    await next.close();
  });
});
