import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatClient } from './ChatClient.ts';
import type { RoomSummary } from './rooms/RoomList.ts';
import { startTestServer, type TestServer } from '../test/support/serverHarness.ts';
import { freshDbName, openTestClient, until, untilOnline } from '../test/support/clientHarness.ts';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t.dispose();
});

/** Resolves once the client's room list satisfies `predicate`. */
const untilRooms = (client: ChatClient, predicate: (rooms: readonly RoomSummary[]) => boolean, what: string): Promise<void> =>
  until((check) => client.on('rooms', check), () => predicate(client.rooms()), what);
const summaryOf = (client: ChatClient, roomId: string): RoomSummary | undefined => client.rooms().find((s) => s.room.id === roomId);

describe('the user feed in the SDK', () => {
  it('keeps the room list live: rooms others create, rename, write in, add members to and remove me from', async () => {
    const ana = await t.login('Ana');
    const ben = await t.login('Ben');
    const cleo = await t.login('Cleo');
    const client = await openTestClient({ serverUrl: t.url, token: ana.token, dbName: freshDbName('feed'), background: { enabled: false } });
    const removals: string[] = [];
    client.on('roomRemoved', ({ roomId, reason }) => removals.push(`${roomId} ${reason}`));

    // Ben starts a group with Ana, and a second one: both appear without a refresh.
    const group = await t.createRoom(ben, [ana]);
    const other = await t.createRoom(ben, [ana]);
    await untilRooms(client, (rooms) => [group, other].every((id) => rooms.some((s) => s.room.id === id)), 'the new rooms to appear');

    // Renamed elsewhere: the new name.
    expect((await t.api(ben, 'PATCH', `/api/rooms/${group}`, { name: 'Kick-off' })).status).toBe(200);
    await untilRooms(client, () => summaryOf(client, group)?.room.name === 'Kick-off', 'the new name');

    // Ben writes in the unopened room: its last message and unread count follow.
    const bens = await openTestClient({ serverUrl: t.url, token: ben.token, dbName: freshDbName('feed-ben'), background: { enabled: false } });
    const bensRoom = await bens.openRoom(other);
    const sent = await bensRoom.send({ content: 'are you there?' });
    await bensRoom.whenSent(sent.id);
    await untilRooms(client, () => summaryOf(client, other)?.unreadCount === 1 && summaryOf(client, other)?.lastMessage?.content === 'are you there?', 'the unread count');
    expect(client.rooms()[0]?.room.id).toBe(other);

    // A member added elsewhere shows in the open room with their name.
    const room = await client.openRoom(group);
    await untilOnline(room);
    expect((await t.api(ben, 'POST', `/api/rooms/${group}/members`, { user_id: cleo.id })).status).toBe(201);
    await until((check) => room.on('change', check), () => room.members().some((m) => m.user?.name === 'Cleo'), 'Cleo in the member list');
    await untilRooms(client, () => summaryOf(client, group)?.room.member_count === 3, 'the member count');

    // Deactivated elsewhere: it stays in the list, marked inactive.
    expect((await t.api(ben, 'PATCH', `/api/rooms/${group}`, { is_active: false })).status).toBe(200);
    await untilRooms(client, () => summaryOf(client, group)?.room.is_active === false, 'the room to show as deactivated');

    // Removed: the room leaves the list, and the app is told why.
    expect((await t.api(ben, 'DELETE', `/api/rooms/${other}/members/${ana.id}`)).status).toBe(204);
    await until((check) => client.on('roomRemoved', check), () => removals.length > 0, 'the removal');
    expect(removals).toEqual([`${other} removed`]);
    expect(client.rooms().some((s) => s.room.id === other)).toBe(false);
    await bens.close();
    await client.close();
  });

  it('a device that was away catches up when it opens: rooms created and lost meanwhile', async () => {
    const ana = await t.login('Ana away');
    const ben = await t.login('Ben away');
    const dbName = freshDbName('feed-away');
    const kept = await t.createRoom(ben, [ana]);
    const lost = await t.createRoom(ben, [ana]);
    const first = await openTestClient({ serverUrl: t.url, token: ana.token, dbName, background: { enabled: false } });
    await untilRooms(first, (rooms) => rooms.length === 2, 'both rooms');
    await first.close();

    const added = await t.createRoom(ben, [ana]);
    expect((await t.api(ben, 'DELETE', `/api/rooms/${lost}/members/${ana.id}`)).status).toBe(204);
    const again = await openTestClient({ serverUrl: t.url, token: ana.token, dbName, background: { enabled: false } });
    expect(again.rooms().map((s) => s.room.id).sort()).toEqual([kept, lost].sort());
    await untilRooms(again, (rooms) => rooms.map((s) => s.room.id).sort().join() === [kept, added].sort().join(), 'the list to catch up');
    await again.close();
  });

  it('starting a direct message with someone I already have one with opens the existing room', async () => {
    const ana = await t.login('Ana direct');
    const ben = await t.login('Ben direct');
    const client = await openTestClient({ serverUrl: t.url, token: ana.token, dbName: freshDbName('direct'), background: { enabled: false } });
    const first = await client.createRoom({ type: 'direct', members: [{ user_id: ben.id, role: 'member' }] });
    const again = await client.createRoom({ type: 'direct', members: [{ user_id: ben.id, role: 'member' }] });
    expect(again.id).toBe(first.id);
    expect(client.rooms().filter((s) => s.room.type === 'direct')).toHaveLength(1);
    await client.close();
  });
});
