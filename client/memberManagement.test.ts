import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChatClient } from './ChatClient.ts';
import { ApiError } from './api/RestClient.ts';
import { startTestServer, type TestServer } from '../test/support/serverHarness.ts';
import { freshDbName, openTestClient, until } from '../test/support/clientHarness.ts';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t.dispose();
});

describe('dev login, user search, member management, read positions', () => {
  it('devLogin returns a token the client opens with; a disabled server refuses it by name', async () => {
    const { token, user } = await ChatClient.devLogin(t.url, 'Dora');
    expect(user.name).toBe('Dora');
    const client = await openTestClient({ serverUrl: t.url, token, dbName: freshDbName('dora') });
    expect(client.user).toEqual(user);
    await client.close();
    const off = await startTestServer({ PARLEY_DEV_LOGIN: '0', PARLEY_JWT_SECRET: 'a-test-secret-that-is-long-enough-for-hs256' });
    try {
      const refused = await ChatClient.devLogin(off.url, 'Dora').catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(ApiError);
      expect((refused as ApiError).apiCode).toBe('dev_login_disabled');
    } finally {
      await off.dispose();
    }
  });

  it('an owner finds a user, adds them, promotes and removes them; a member may not; leaving drops the room', async () => {
    const ana = await t.login('Ana');
    const bob = await t.login('Bobby');
    const cid = await t.login('Cid');
    const roomId = await t.createRoom(ana, [cid]);
    const a = await openTestClient({ serverUrl: t.url, token: ana.token, dbName: freshDbName('a') });
    const c = await openTestClient({ serverUrl: t.url, token: cid.token, dbName: freshDbName('c') });
    const room = await a.openRoom(roomId);
    await until((check) => room.on('change', check), () => room.members().length === 2, 'the member list');

    const found = await a.searchUsers('Bob');
    expect(found.map((u) => u.id)).toContain(bob.id);
    const added = await a.addMember(roomId, bob.id);
    expect(added.role).toBe('member');
    expect(room.members().map((m) => m.user_id)).toContain(bob.id);
    expect((await a.setMemberRole(roomId, bob.id, 'admin')).role).toBe('admin');
    expect(room.members().find((m) => m.user_id === bob.id)?.role).toBe('admin');

    const refused = await c.removeMember(roomId, bob.id).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ApiError);
    expect((refused as ApiError).status).toBe(403);

    await a.removeMember(roomId, bob.id);
    expect(room.members().map((m) => m.user_id)).not.toContain(bob.id);

    await c.refreshRooms();
    expect(c.rooms().map((r) => r.room.id)).toContain(roomId);
    await c.openRoom(roomId);
    await c.leaveRoom(roomId);
    expect(c.rooms().map((r) => r.room.id)).not.toContain(roomId);
    expect(await c.store.loadRoom(roomId)).toMatchObject({ snapshot: null, updates: [] });
    await a.close();
    await c.close();
  });

  it('readPositions lists every member who read, for read receipts', async () => {
    const ana = await t.login('Ana');
    const bob = await t.login('Bob');
    const roomId = await t.createRoom(ana, [bob]);
    const a = await openTestClient({ serverUrl: t.url, token: ana.token, dbName: freshDbName('a') });
    const b = await openTestClient({ serverUrl: t.url, token: bob.token, dbName: freshDbName('b') });
    const ra = await a.openRoom(roomId);
    const rb = await b.openRoom(roomId);
    const first = await ra.send({ content: 'one' });
    await until((check) => rb.on('change', check), () => rb.getMessage(first.id) !== null, 'bob to receive it');
    await rb.markRead(first.id);
    await until((check) => ra.on('change', check), () => ra.readPositions().get(bob.id) === first.id, "bob's read position at ana");
    expect(ra.myRole).toBe('owner');
    await a.close();
    await b.close();
  });
});
