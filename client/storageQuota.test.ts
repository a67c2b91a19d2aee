import { IDBKeyRange, indexedDB } from 'fake-indexeddb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClientError } from './errors/ClientError.ts';
import { DexieLocalStore } from './store/DexieLocalStore.ts';
import type { LocalStore } from './store/LocalStore.ts';
import { getMessage } from '../shared/roomDoc/queries.ts';
import { connectProvider, startTestServer, synced, type TestServer } from '../test/support/serverHarness.ts';
import { freshDbName, openTestClient } from '../test/support/clientHarness.ts';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t.dispose();
});

/**
 * The real Dexie store, with a disk that can fill up: while `full`, appends fail the way a
 * browser fails them (a DOMException named QuotaExceededError). Everything else is the real store.
 */
function fillable(store: DexieLocalStore): LocalStore & { full: boolean } {
  const fault = { full: false };
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'full') return fault.full;
      if (prop === 'appendUpdates') {
        return (roomId: string, updates: readonly Uint8Array[]) =>
          fault.full ? Promise.reject(new DOMException('The quota has been exceeded.', 'QuotaExceededError')) : target.appendUpdates(roomId, updates);
      }
      const value: unknown = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
    set(target, prop, value) {
      if (prop === 'full') {
        fault.full = Boolean(value);
        return true;
      }
      return Reflect.set(target, prop, value);
    },
  }) as unknown as LocalStore & { full: boolean };
}

describe('storage quota exceeded', () => {
  it('surfaces as an error event and a rejected send, sends nothing unstored, and recovers once space is back', async () => {
    const ana = await t.login('Ana');
    const bob = await t.login('Bob');
    const roomId = await t.createRoom(ana, [bob]);
    const store = fillable(await DexieLocalStore.open({ name: freshDbName('quota'), indexedDB, IDBKeyRange }));
    const client = await openTestClient({ serverUrl: t.url, token: ana.token, store });
    const errors: ClientError[] = [];
    client.on('error', (e) => errors.push(e));
    const room = await client.openRoom(roomId);
    await room.whenSent((await room.send({ content: 'fits' })).id);

    store.full = true;
    const failed = room.send({ content: 'does not fit' });
    await expect(failed).rejects.toMatchObject({ code: 'storage_full' });
    expect(errors.map((e) => e.code)).toContain('storage_full');
    const [message] = room.messages({ limit: 1 }).messages;
    expect(message).toMatchObject({ content: 'does not fit', state: { state: 'pending' } });

    // Not stored, so not sent: the server does not have it.
    const reader = connectProvider(t, roomId, bob);
    await synced(reader);
    expect(getMessage(reader.doc, message!.id)).toBeNull();
    expect(getMessage(reader.doc, room.messages({ limit: 2 }).messages[0]!.id)?.content).toBe('fits');
    reader.destroy();

    // Space comes back: the queued write is retried, stored, then sent.
    store.full = false;
    await room.whenSent(message!.id);
    await client.close();
    await store.close();
    const reopened = await DexieLocalStore.open({ name: store instanceof DexieLocalStore ? store.name : '', indexedDB, IDBKeyRange });
    expect((await reopened.loadRoom(roomId)).updates.length).toBeGreaterThanOrEqual(2);
    await reopened.close();
  });
});
