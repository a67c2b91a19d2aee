import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { uuidv4 } from '../../shared/ids.ts';
import { ChatMemberListSchema, ChatMemberSchema, type ChatMemberRole } from '../../shared/models/chatMember.ts';
import { ChatRoomSchema, type ChatRoom } from '../../shared/models/chatRoom.ts';
import { toTimestamp } from '../../shared/models/timestamps.ts';
import { expectError, startApi, T0, type ApiHarness, type Session } from '../../test/support/apiHarness.ts';

let h: ApiHarness;
/** Owner of `room`. */
let olga: Session;
/** Admin of `room`. */
let adam: Session;
/** Plain member of `room`. */
let mia: Session;
/** Not in `room`. */
let otto: Session;
let room: ChatRoom;

beforeEach(async () => {
  h = await startApi();
  [olga, adam, mia, otto] = [await h.login('Olga'), await h.login('Adam'), await h.login('Mia'), await h.login('Otto')];
  room = await h.createRoom(olga, {
    name: 'team',
    type: 'group',
    members: [
      { user_id: adam.user.id, role: 'admin' },
      { user_id: mia.user.id, role: 'member' },
    ],
  });
  h.access.take();
});
afterEach(() => h.close());

const membersPath = (userId?: string) => `/api/rooms/${room.id}/members${userId === undefined ? '' : `/${userId}`}`;
const patchMember = (as: Session, userId: string, json: unknown) => h.request('PATCH', membersPath(userId), { as, json });
const roleOf = (userId: string): ChatMemberRole | undefined => h.directory.members.get(room.id, userId)?.role;
const isActive = (userId: string): boolean | undefined => h.directory.members.get(room.id, userId)?.is_active;
const told = (...userIds: string[]) => userIds.map((userId) => ({ kind: 'membership', roomId: room.id, userId }));

describe('GET /api/rooms/:roomId/members', () => {
  it('lists active members with their users, oldest first; former ones only with include_inactive', async () => {
    await h.request('DELETE', membersPath(mia.user.id), { as: olga });
    const res = await h.request('GET', membersPath(), { as: adam });
    expect(res.status).toBe(200);
    const members = ChatMemberListSchema.parse(res.body).members;
    expect(members.map((m) => [m.user?.name, m.role, m.is_active])).toEqual([
      ['Olga', 'owner', true],
      ['Adam', 'admin', true],
    ]);
    expect(members[0]).toMatchObject({ room_id: room.id, last_read_at: null, created_at: toTimestamp(T0) });

    const all = ChatMemberListSchema.parse((await h.request('GET', `${membersPath()}?include_inactive=true`, { as: adam })).body).members;
    expect(all.map((m) => [m.user?.name, m.is_active])).toEqual([
      ['Olga', true],
      ['Adam', true],
      ['Mia', false],
    ]);
  });

  it('is for active members only, and validates the query', async () => {
    expectError(await h.request('GET', membersPath(), { as: otto }), 'not_a_member');
    expectError(await h.request('GET', `/api/rooms/${uuidv4()}/members`, { as: olga }), 'not_found');
    const error = expectError(await h.request('GET', `${membersPath()}?include_inactive=maybe`, { as: olga }), 'invalid_payload');
    expect(error.details).toEqual([expect.objectContaining({ path: ['include_inactive'] })]);
  });
});

describe('POST /api/rooms/:roomId/members', () => {
  it('an admin adds a member (201) and the sync layer is told', async () => {
    const res = await h.request('POST', membersPath(), { as: adam, json: { user_id: otto.user.id } });
    expect(res.status).toBe(201);
    expect(ChatMemberSchema.parse(res.body)).toMatchObject({
      user_id: otto.user.id,
      role: 'member',
      is_active: true,
      user: { id: otto.user.id, name: 'Otto' },
    });
    expect(h.access.take()).toEqual(told(otto.user.id));
    expect(ChatRoomSchema.parse((await h.request('GET', `/api/rooms/${room.id}`, { as: otto })).body).member_count).toBe(4);
  });

  it('a user who never logged in can be added (placeholder user, `user` null)', async () => {
    const ghost = uuidv4();
    expect(await h.addMember(olga, room.id, { user_id: ghost })).toMatchObject({ user_id: ghost, user: null });
  });

  it('409 conflict for an already active member', async () => {
    const error = expectError(await h.request('POST', membersPath(), { as: olga, json: { user_id: mia.user.id } }), 'conflict');
    expect(error.details).toEqual({ user_id: mia.user.id });
    expect(h.access.take()).toEqual([]);
  });

  it('re-adding a former member reactivates the same row (200)', async () => {
    const before = h.directory.members.get(room.id, mia.user.id);
    await h.request('DELETE', membersPath(mia.user.id), { as: olga });
    h.access.take();
    const res = await h.request('POST', membersPath(), { as: adam, json: { user_id: mia.user.id } });
    expect(res.status).toBe(200);
    expect(ChatMemberSchema.parse(res.body)).toMatchObject({ id: before?.id, is_active: true, role: 'member' });
    expect(h.access.take()).toEqual(told(mia.user.id));
  });

  it('only an owner adds admins or owners; plain members add nobody', async () => {
    expectError(await h.request('POST', membersPath(), { as: adam, json: { user_id: otto.user.id, role: 'admin' } }), 'forbidden');
    expectError(await h.request('POST', membersPath(), { as: adam, json: { user_id: otto.user.id, role: 'owner' } }), 'forbidden');
    expectError(await h.request('POST', membersPath(), { as: mia, json: { user_id: otto.user.id } }), 'forbidden');
    expectError(await h.request('POST', membersPath(), { as: otto, json: { user_id: otto.user.id } }), 'not_a_member');
    expect(isActive(otto.user.id)).toBeUndefined();
    expect(await h.addMember(olga, room.id, { user_id: otto.user.id, role: 'owner' })).toMatchObject({ role: 'owner' });
  });

  it('an admin may re-add a former admin, but only as a plain member', async () => {
    await h.request('POST', `/api/rooms/${room.id}/leave`, { as: adam });
    await h.request('PATCH', membersPath(mia.user.id), { as: olga, json: { role: 'admin' } });
    expectError(await h.request('POST', membersPath(), { as: mia, json: { user_id: adam.user.id, role: 'admin' } }), 'forbidden');
    expect((await h.request('POST', membersPath(), { as: mia, json: { user_id: adam.user.id } })).status).toBe(200);
    expect(roleOf(adam.user.id)).toBe('member');
  });

  it('400 for a bad body, including is_active: false', async () => {
    const error = expectError(await h.request('POST', membersPath(), { as: olga, json: { user_id: 'x', role: 'boss' } }), 'invalid_payload');
    expect((error.details as Array<{ path: string[] }>).map((i) => i.path[0]).sort()).toEqual(['role', 'user_id']);
    const inactive = expectError(await h.request('POST', membersPath(), { as: olga, json: { user_id: otto.user.id, is_active: false } }), 'invalid_payload');
    expect(inactive.details).toEqual([expect.objectContaining({ path: ['is_active'] })]);
  });
});

describe('PATCH /api/rooms/:roomId/members/:userId', () => {
  it('an owner grants and revokes admin; the sync layer is told each time', async () => {
    const res = await patchMember(olga, mia.user.id, { role: 'admin' });
    expect(res.status).toBe(200);
    expect(ChatMemberSchema.parse(res.body)).toMatchObject({ role: 'admin', user: { name: 'Mia' } });
    await patchMember(olga, adam.user.id, { role: 'member' });
    expect([roleOf(mia.user.id), roleOf(adam.user.id)]).toEqual(['admin', 'member']);
    expect(h.access.take()).toEqual(told(mia.user.id, adam.user.id));
  });

  it('an admin manages plain members only', async () => {
    expect((await patchMember(adam, mia.user.id, { is_active: false })).status).toBe(200);
    expect((await patchMember(adam, mia.user.id, { is_active: true })).status).toBe(200);
    expect(h.access.take()).toEqual(told(mia.user.id, mia.user.id));
    expectError(await patchMember(adam, mia.user.id, { role: 'admin' }), 'forbidden');
    expectError(await patchMember(adam, olga.user.id, { role: 'member' }), 'forbidden');
    expectError(await patchMember(adam, olga.user.id, { is_active: false }), 'forbidden');
    expectError(await patchMember(adam, adam.user.id, { role: 'member' }), 'forbidden');
    expect(h.access.take()).toEqual([]);
  });

  it('a plain member may not change roles, even their own', async () => {
    expectError(await patchMember(mia, mia.user.id, { role: 'admin' }), 'forbidden');
    expectError(await patchMember(mia, adam.user.id, { is_active: false }), 'forbidden');
    expect(roleOf(mia.user.id)).toBe('member');
  });

  it('a member moves their own last_read_at, forward only; nobody else may', async () => {
    const later = toTimestamp(T0 + 10_000);
    const res = await patchMember(mia, mia.user.id, { last_read_at: later });
    expect(res.status).toBe(200);
    expect(ChatMemberSchema.parse(res.body).last_read_at).toBe(later);
    // An older position (an offline device catching up) and null leave it where it is.
    const older = await patchMember(mia, mia.user.id, { last_read_at: '2026-01-01T00:00:05+00:00' });
    expect(ChatMemberSchema.parse(older.body).last_read_at).toBe(later);
    expect(ChatMemberSchema.parse((await patchMember(mia, mia.user.id, { last_read_at: null })).body).last_read_at).toBe(later);
    // Offsets are normalised to UTC.
    const offset = await patchMember(mia, mia.user.id, { last_read_at: '2026-01-01T01:00:20+01:00' });
    expect(ChatMemberSchema.parse(offset.body).last_read_at).toBe(toTimestamp(T0 + 20_000));

    expectError(await patchMember(olga, mia.user.id, { last_read_at: later }), 'forbidden');
    expect(h.access.take()).toEqual([]);
  });

  it('a no-op change needs no permission and tells nobody', async () => {
    const res = await patchMember(mia, adam.user.id, { role: 'admin' });
    expect(ChatMemberSchema.parse(res.body).role).toBe('admin');
    expect(h.access.take()).toEqual([]);
  });

  it('a room keeps an owner: the last owner cannot step down (409) until another exists', async () => {
    expectError(await patchMember(olga, olga.user.id, { role: 'admin' }), 'conflict');
    expectError(await patchMember(olga, olga.user.id, { is_active: false }), 'conflict');
    await patchMember(olga, adam.user.id, { role: 'owner' });
    expect((await patchMember(olga, olga.user.id, { role: 'member' })).status).toBe(200);
    expect([roleOf(olga.user.id), roleOf(adam.user.id)]).toEqual(['member', 'owner']);
  });

  it('404 for a non-member target or malformed id; 403 for a non-member caller; 400 for a bad body', async () => {
    expectError(await patchMember(olga, otto.user.id, { role: 'admin' }), 'not_found');
    expectError(await patchMember(olga, 'nope', { role: 'admin' }), 'not_found');
    expectError(await patchMember(otto, mia.user.id, { role: 'admin' }), 'not_a_member');
    const error = expectError(await patchMember(olga, mia.user.id, { role: 'king', last_read_at: 'yesterday' }), 'invalid_payload');
    expect((error.details as Array<{ path: string[] }>).map((i) => i.path[0]).sort()).toEqual(['last_read_at', 'role']);
  });
});

describe('DELETE /api/rooms/:roomId/members/:userId', () => {
  it('an admin removes a member: 204, inactive, told, access gone', async () => {
    const res = await h.request('DELETE', membersPath(mia.user.id), { as: adam });
    expect(res).toMatchObject({ status: 204, body: null });
    expect(isActive(mia.user.id)).toBe(false);
    expect(h.access.take()).toEqual(told(mia.user.id));
    expectError(await h.request('GET', `/api/rooms/${room.id}`, { as: mia }), 'not_a_member');
    // Removing again is a no-op.
    expect((await h.request('DELETE', membersPath(mia.user.id), { as: adam })).status).toBe(204);
    expect(h.access.take()).toEqual([]);
  });

  it('only an owner removes an admin; members remove nobody', async () => {
    expectError(await h.request('DELETE', membersPath(adam.user.id), { as: mia }), 'forbidden');
    await h.request('PATCH', membersPath(mia.user.id), { as: olga, json: { role: 'admin' } });
    expectError(await h.request('DELETE', membersPath(adam.user.id), { as: mia }), 'forbidden');
    expect((await h.request('DELETE', membersPath(adam.user.id), { as: olga })).status).toBe(204);
  });

  it('the last owner cannot be removed (409); one of two owners can', async () => {
    expectError(await h.request('DELETE', membersPath(olga.user.id), { as: olga }), 'conflict');
    await h.request('PATCH', membersPath(adam.user.id), { as: olga, json: { role: 'owner' } });
    expect((await h.request('DELETE', membersPath(olga.user.id), { as: adam })).status).toBe(204);
    expectError(await h.request('DELETE', membersPath(adam.user.id), { as: adam }), 'conflict');
  });

  it('404 for someone who was never a member', async () => {
    expectError(await h.request('DELETE', membersPath(otto.user.id), { as: olga }), 'not_found');
    expectError(await h.request('DELETE', membersPath('nope'), { as: olga }), 'not_found');
  });
});

describe('POST /api/rooms/:roomId/leave', () => {
  const leave = (as: Session, roomId = room.id) => h.request('POST', `/api/rooms/${roomId}/leave`, { as });

  it('a member leaves: 204, inactive, told', async () => {
    expect(await leave(mia)).toMatchObject({ status: 204, body: null });
    expect(isActive(mia.user.id)).toBe(false);
    expect(h.access.take()).toEqual(told(mia.user.id));
    expectError(await leave(mia), 'not_a_member');
  });

  it('the last owner leaving hands ownership to the longest-standing admin', async () => {
    const zed = await h.login('Zed');
    h.clock.advance(1000);
    await h.addMember(olga, room.id, { user_id: zed.user.id, role: 'admin' });
    h.access.take();
    expect((await leave(olga)).status).toBe(204);
    expect([roleOf(adam.user.id), roleOf(zed.user.id)]).toEqual(['owner', 'admin']);
    expect(h.access.take()).toEqual(told(olga.user.id, adam.user.id));
  });

  it('with no admin, the longest-standing member inherits', async () => {
    h.clock.advance(1000);
    await h.addMember(olga, room.id, { user_id: otto.user.id });
    await leave(adam);
    h.access.take();
    await leave(olga);
    expect(roleOf(mia.user.id)).toBe('owner');
    expect(h.access.take()).toEqual(told(olga.user.id, mia.user.id));
  });

  it('an owner leaving while another owner stays hands nothing over', async () => {
    await h.request('PATCH', membersPath(mia.user.id), { as: olga, json: { role: 'owner' } });
    h.access.take();
    await leave(olga);
    expect([roleOf(adam.user.id), roleOf(mia.user.id)]).toEqual(['admin', 'owner']);
    expect(h.access.take()).toEqual(told(olga.user.id));
  });

  it('the last one out deactivates the room', async () => {
    await leave(mia);
    await leave(adam);
    h.access.take();
    await leave(olga);
    expect(h.directory.rooms.get(room.id)?.is_active).toBe(false);
    expect(h.access.take()).toEqual([...told(olga.user.id), { kind: 'room', roomId: room.id }]);
  });

  it('404 unknown room, 403 for outsiders', async () => {
    expectError(await leave(otto), 'not_a_member');
    expectError(await leave(olga, uuidv4()), 'not_found');
  });
});

describe('direct rooms have a fixed pair of members', () => {
  it('no adding, removing, re-roling or leaving (403); read positions still move', async () => {
    const direct = await h.createRoom(olga, { type: 'direct', members: [{ user_id: mia.user.id }] });
    const base = `/api/rooms/${direct.id}`;
    expectError(await h.request('POST', `${base}/members`, { as: olga, json: { user_id: otto.user.id } }), 'forbidden');
    expectError(await h.request('DELETE', `${base}/members/${mia.user.id}`, { as: olga }), 'forbidden');
    expectError(await h.request('PATCH', `${base}/members/${mia.user.id}`, { as: olga, json: { role: 'member' } }), 'forbidden');
    expectError(await h.request('POST', `${base}/leave`, { as: mia }), 'forbidden');
    const read = await h.request('PATCH', `${base}/members/${mia.user.id}`, { as: mia, json: { last_read_at: toTimestamp(T0 + 1) } });
    expect(ChatMemberSchema.parse(read.body).last_read_at).toBe(toTimestamp(T0 + 1));
    const members = ChatMemberListSchema.parse((await h.request('GET', `${base}/members`, { as: mia })).body).members;
    expect(members.map((m) => [m.user_id, m.is_active])).toEqual([
      [olga.user.id, true],
      [mia.user.id, true],
    ]);
  });
});
