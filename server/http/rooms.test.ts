import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { uuidv4 } from '../../shared/ids.ts';
import { ChatMemberListSchema } from '../../shared/models/chatMember.ts';
import { ChatRoomListSchema, ChatRoomSchema } from '../../shared/models/chatRoom.ts';
import { toTimestamp } from '../../shared/models/timestamps.ts';
import { chatMessage, expectError, startApi, T0, type ApiHarness, type Session } from '../../test/support/apiHarness.ts';
import { RestClient } from '../../client/api/RestClient.ts';

let h: ApiHarness;
let ana: Session;
let bruno: Session;
let carla: Session;

beforeEach(async () => {
  h = await startApi();
  [ana, bruno, carla] = [await h.login('Ana'), await h.login('Bruno'), await h.login('Carla')];
});
afterEach(() => h.close());

const membersOf = async (as: Session, roomId: string) => {
  const res = await h.request('GET', `/api/rooms/${roomId}/members`, { as });
  expect(res.status).toBe(200);
  return ChatMemberListSchema.parse(res.body).members;
};

describe('POST /api/rooms', () => {
  it('creates a group with the creator as owner and the initial members; 201 ChatRoom', async () => {
    const companyId = uuidv4();
    const res = await h.request('POST', '/api/rooms', {
      as: ana,
      json: {
        name: ' Team ',
        type: 'group',
        company_id: companyId,
        extra_metadata: { topic: 'launch', tags: ['a', 'b'] },
        members: [{ user_id: bruno.user.id, role: 'admin' }, { user_id: carla.user.id }],
      },
    });
    expect(res.status).toBe(201);
    // Only the ChatRoom fields leave the server (no direct_key, no raw last_message column); the
    // caller's unread_count, mention_count and muted are only in their own list.
    expect(Object.keys(res.body as object).sort()).toEqual(Object.keys(ChatRoomSchema.shape).filter((k) => k !== 'unread_count' && k !== 'mention_count' && k !== 'muted').sort());
    const room = ChatRoomSchema.parse(res.body);
    expect(room).toMatchObject({
      name: 'Team',
      type: 'group',
      company_id: companyId,
      company: { id: companyId },
      is_active: true,
      extra_metadata: { topic: 'launch', tags: ['a', 'b'] },
      member_count: 3,
      last_message: null,
      created_at: toTimestamp(T0),
      updated_at: toTimestamp(T0),
    });
    const roles = Object.fromEntries((await membersOf(ana, room.id)).map((m) => [m.user_id, m.role]));
    expect(roles).toEqual({ [ana.user.id]: 'owner', [bruno.user.id]: 'admin', [carla.user.id]: 'member' });
    expect(h.access.take()).toEqual([{ kind: 'room', roomId: room.id }]);
  });

  it('applies the defaults: no name, no company, empty metadata, no other members', async () => {
    const room = await h.createRoom(ana, { type: 'channel' });
    expect(room).toMatchObject({ name: null, company_id: null, company: null, extra_metadata: {}, member_count: 1 });
  });

  it('accepts members who never logged in: placeholder users, `user` null until they do', async () => {
    const stranger = uuidv4();
    const room = await h.createRoom(ana, { name: 'x', type: 'group', members: [{ user_id: stranger }] });
    const member = (await membersOf(ana, room.id)).find((m) => m.user_id === stranger);
    expect(member).toMatchObject({ role: 'member', is_active: true, user: null });
    expect(h.directory.users.get(stranger)).toBeNull();

    const arriving = await h.sessionFor('Late Larry', stranger);
    const rooms = ChatRoomListSchema.parse((await h.request('GET', '/api/rooms', { as: arriving })).body).rooms;
    expect(rooms.map((r) => r.id)).toEqual([room.id]);
    const named = (await membersOf(ana, room.id)).find((m) => m.user_id === stranger);
    expect(named?.user).toEqual({ id: stranger, name: 'Late Larry' });
  });

  it('400 invalid_payload with zod issues for a malformed body', async () => {
    const error = expectError(
      await h.request('POST', '/api/rooms', {
        as: ana,
        json: { type: 'forum', name: 'x'.repeat(121), members: [{ user_id: 'nope' }], extra_metadata: { __proto__: null, constructor: 1 } },
      }),
      'invalid_payload',
    );
    const paths = (error.details as Array<{ path: Array<string | number> }>).map((i) => i.path.join('.'));
    expect(paths).toEqual(expect.arrayContaining(['type', 'name', 'members.0.user_id', 'extra_metadata']));
  });

  it('400 for prototype-polluting keys in extra_metadata, at any depth', async () => {
    for (const raw of [
      '{"type":"group","extra_metadata":{"__proto__":{"admin":true}}}',
      '{"type":"group","extra_metadata":{"a":{"b":{"constructor":1}}}}',
    ]) {
      const error = expectError(
        await h.request('POST', '/api/rooms', { as: ana, rawBody: raw, headers: { 'content-type': 'application/json' } }),
        'invalid_payload',
      );
      expect(JSON.stringify(error.details)).toMatch(/forbidden key/);
    }
    expect(h.directory.rooms.listForUser(ana.user.id)).toEqual([]);
  });

  it('400 for an initial owner, the creator listed, or a member listed twice', async () => {
    const owner = expectError(
      await h.request('POST', '/api/rooms', { as: ana, json: { type: 'group', members: [{ user_id: bruno.user.id, role: 'owner' }] } }),
      'invalid_payload',
    );
    expect(JSON.stringify(owner.details)).toMatch(/members/);
    const listed = expectError(
      await h.request('POST', '/api/rooms', {
        as: ana,
        json: { type: 'group', members: [{ user_id: ana.user.id }, { user_id: bruno.user.id }, { user_id: bruno.user.id }] },
      }),
      'invalid_payload',
    );
    expect(listed.details).toEqual([
      expect.objectContaining({ path: ['members', 0, 'user_id'], message: expect.stringMatching(/creator/) }),
      expect.objectContaining({ path: ['members', 2, 'user_id'], message: 'duplicate member' }),
    ]);
    expect(h.directory.rooms.listForUser(ana.user.id)).toEqual([]);
  });
});

describe('direct rooms', () => {
  it('a direct room has both people as owners and no name', async () => {
    const room = await h.createRoom(ana, { type: 'direct', members: [{ user_id: bruno.user.id }] });
    expect(room).toMatchObject({ type: 'direct', name: null, member_count: 2 });
    expect((await membersOf(bruno, room.id)).map((m) => m.role)).toEqual(['owner', 'owner']);
  });

  it('is unique per pair, whoever creates it: 409 conflict with the existing room id', async () => {
    const room = await h.createRoom(ana, { type: 'direct', members: [{ user_id: bruno.user.id }] });
    for (const [as, other] of [
      [ana, bruno],
      [bruno, ana],
    ] as const) {
      const error = expectError(
        await h.request('POST', '/api/rooms', { as, json: { type: 'direct', members: [{ user_id: other.user.id }] } }),
        'conflict',
      );
      expect(error.details).toEqual({ room_id: room.id });
    }
    // Another pair is another room.
    await h.createRoom(ana, { type: 'direct', members: [{ user_id: carla.user.id }] });
  });

  it('needs exactly one other member', async () => {
    for (const members of [[], [{ user_id: bruno.user.id }, { user_id: carla.user.id }]]) {
      const error = expectError(await h.request('POST', '/api/rooms', { as: ana, json: { type: 'direct', members } }), 'invalid_payload');
      expect(error.details).toEqual([expect.objectContaining({ path: ['members'] })]);
    }
    expectError(await h.request('POST', '/api/rooms', { as: ana, json: { type: 'direct', members: [{ user_id: ana.user.id }] } }), 'invalid_payload');
  });
});

describe('GET /api/rooms', () => {
  it("lists the caller's active rooms, newest activity first, with member_count and last_message", async () => {
    const older = await h.createRoom(ana, { name: 'older', type: 'group', members: [{ user_id: bruno.user.id }] });
    h.clock.advance(1000);
    const newer = await h.createRoom(ana, { name: 'newer', type: 'group' });
    h.clock.advance(1000);
    const left = await h.createRoom(bruno, { name: 'left', type: 'group', members: [{ user_id: ana.user.id }] });
    await h.createRoom(bruno, { name: 'not mine', type: 'group' });
    expect((await h.request('POST', `/api/rooms/${left.id}/leave`, { as: ana })).status).toBe(204);

    const list = async () => ChatRoomListSchema.parse((await h.request('GET', '/api/rooms', { as: ana })).body).rooms;
    expect((await list()).map((r) => r.name)).toEqual(['newer', 'older']);

    // A message in the older room makes it the most recent activity.
    const message = chatMessage(older.id, bruno.user, T0 + 5000, 'bump');
    h.directory.rooms.setLastMessage(older.id, message);
    const rooms = await list();
    expect(rooms.map((r) => r.name)).toEqual(['older', 'newer']);
    expect(rooms[0]).toMatchObject({ member_count: 2, last_message: message });
    expect(rooms[1]).toMatchObject({ member_count: 1, last_message: null });
  });

  it('includes deactivated rooms (flagged is_active: false) while the caller is an active member', async () => {
    const room = await h.createRoom(ana, { name: 'archive', type: 'group' });
    await h.request('PATCH', `/api/rooms/${room.id}`, { as: ana, json: { is_active: false } });
    const rooms = ChatRoomListSchema.parse((await h.request('GET', '/api/rooms', { as: ana })).body).rooms;
    expect(rooms).toEqual([expect.objectContaining({ id: room.id, is_active: false })]);
  });
});

describe('GET /api/rooms/:roomId', () => {
  it('returns the room to an active member', async () => {
    const room = await h.createRoom(ana, { name: 'r', type: 'group', members: [{ user_id: bruno.user.id }] });
    const res = await h.request('GET', `/api/rooms/${room.id}`, { as: bruno });
    expect(res.status).toBe(200);
    expect(ChatRoomSchema.parse(res.body)).toEqual(room);
  });

  it('404 for an unknown or malformed id, 403 not_a_member for outsiders and former members', async () => {
    const room = await h.createRoom(ana, { name: 'r', type: 'group', members: [{ user_id: bruno.user.id }] });
    expectError(await h.request('GET', `/api/rooms/${uuidv4()}`, { as: ana }), 'not_found');
    expectError(await h.request('GET', '/api/rooms/not-a-uuid', { as: ana }), 'not_found');
    expectError(await h.request('GET', `/api/rooms/${room.id}`, { as: carla }), 'not_a_member');
    await h.request('POST', `/api/rooms/${room.id}/leave`, { as: bruno });
    expectError(await h.request('GET', `/api/rooms/${room.id}`, { as: bruno }), 'not_a_member');
  });
});

describe('PATCH /api/rooms/:roomId', () => {
  it('owners and admins update name and metadata (partially); others get 403', async () => {
    const room = await h.createRoom(ana, {
      name: 'r',
      type: 'group',
      extra_metadata: { a: 1 },
      members: [{ user_id: bruno.user.id, role: 'admin' }, { user_id: carla.user.id }],
    });
    h.access.take();
    h.clock.advance(60_000);

    const renamed = await h.request('PATCH', `/api/rooms/${room.id}`, { as: bruno, json: { name: 'renamed' } });
    expect(renamed.status).toBe(200);
    expect(ChatRoomSchema.parse(renamed.body)).toMatchObject({
      name: 'renamed',
      extra_metadata: { a: 1 },
      created_at: toTimestamp(T0),
      updated_at: toTimestamp(T0 + 60_000),
    });
    const meta = ChatRoomSchema.parse((await h.request('PATCH', `/api/rooms/${room.id}`, { as: ana, json: { extra_metadata: { b: 2 } } })).body);
    expect(meta).toMatchObject({ name: 'renamed', extra_metadata: { b: 2 } });
    const unnamed = ChatRoomSchema.parse((await h.request('PATCH', `/api/rooms/${room.id}`, { as: ana, json: { name: null } })).body);
    expect(unnamed.name).toBeNull();
    expect(h.access.take()).toEqual([
      { kind: 'room', roomId: room.id },
      { kind: 'room', roomId: room.id },
      { kind: 'room', roomId: room.id },
    ]);

    expectError(await h.request('PATCH', `/api/rooms/${room.id}`, { as: carla, json: { name: 'mine' } }), 'forbidden');
    expectError(await h.request('PATCH', `/api/rooms/${room.id}`, { as: await h.login('Dora'), json: { name: 'x' } }), 'not_a_member');
    expectError(await h.request('PATCH', `/api/rooms/${uuidv4()}`, { as: ana, json: { name: 'x' } }), 'not_found');
    expect(h.access.take()).toEqual([]);
  });

  it('deactivating and reactivating tell the sync layer; an empty patch changes nothing', async () => {
    const room = await h.createRoom(ana, { name: 'r', type: 'group' });
    h.access.take();
    const off = ChatRoomSchema.parse((await h.request('PATCH', `/api/rooms/${room.id}`, { as: ana, json: { is_active: false } })).body);
    expect(off.is_active).toBe(false);
    expect(h.access.take()).toEqual([{ kind: 'room', roomId: room.id }]);
    const same = ChatRoomSchema.parse((await h.request('PATCH', `/api/rooms/${room.id}`, { as: ana, json: {} })).body);
    expect(same).toEqual(off);
    expect(h.access.take()).toEqual([]);
    const on = ChatRoomSchema.parse((await h.request('PATCH', `/api/rooms/${room.id}`, { as: ana, json: { is_active: true } })).body);
    expect(on.is_active).toBe(true);
    expect(h.access.take()).toEqual([{ kind: 'room', roomId: room.id }]);
  });

  it('400 with zod issues for unknown fields and bad values', async () => {
    const room = await h.createRoom(ana, { name: 'r', type: 'group' });
    const error = expectError(
      await h.request('PATCH', `/api/rooms/${room.id}`, { as: ana, json: { type: 'channel', is_active: 'yes' } }),
      'invalid_payload',
    );
    expect((error.details as Array<{ code: string }>).map((i) => i.code).sort()).toEqual(['invalid_type', 'unrecognized_keys']);
  });
});

describe('GET /api/rooms pages', () => {
  it('pages the list with limit and next_cursor, in list order, and refuses a cursor it did not give out', async () => {
    const names: string[] = [];
    for (let i = 0; i < 7; i++) {
      h.clock.advance(1000);
      names.unshift(`room ${i}`);
      await h.createRoom(ana, { name: `room ${i}`, type: 'group' });
    }
    const page = async (query: string) => ChatRoomListSchema.parse((await h.request('GET', `/api/rooms${query}`, { as: ana })).body);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const next = await page(`?limit=3${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`);
      expect(next.rooms.length).toBeLessThanOrEqual(3);
      seen.push(...next.rooms.map((r) => r.name ?? ''));
      cursor = next.next_cursor;
      pages++;
    } while (cursor !== null);
    expect(pages).toBe(3);
    expect(seen).toEqual(names);
    // Without limit: one page of at most 100, the last one here.
    expect((await page('')).next_cursor).toBeNull();
    expectError(await h.request('GET', '/api/rooms?cursor=bm90LWEtY3Vyc29y', { as: ana }), 'invalid_payload');
    expectError(await h.request('GET', '/api/rooms?limit=501', { as: ana }), 'invalid_payload');
  });

  it('the SDK follows every page (over 500 rooms)', async () => {
    for (let i = 0; i < 510; i++) h.directory.createRoom({ name: `bulk ${i}`, type: 'group', members: [], extra_metadata: {}, company_id: null, is_active: true }, ana.user.id, T0 + i);
    const client = new RestClient(h.url, () => Promise.resolve(ana.token));
    const rooms = await client.listRooms();
    expect(rooms).toHaveLength(510);
    expect(new Set(rooms.map((r) => r.id)).size).toBe(510);
    expect(rooms[0]?.name).toBe('bulk 509');
  });
});

describe('POST /api/rooms quota', () => {
  it('a user past the burst gets 429 rate_limited with Retry-After; others are unaffected; tokens come back with time', async () => {
    await h.close();
    h = await startApi({ roomCreation: { burst: 3, perMinute: 6 } });
    const cy = await h.login('Cy');
    const dee = await h.login('Dee');
    for (let i = 0; i < 3; i++) expect((await h.request('POST', '/api/rooms', { as: cy, json: { type: 'group', name: `r${i}` } })).status).toBe(201);
    const refused = await h.request('POST', '/api/rooms', { as: cy, json: { type: 'group', name: 'one too many' } });
    expectError(refused, 'rate_limited');
    expect(refused.headers.get('retry-after')).toBe('10');
    expect((await h.request('POST', '/api/rooms', { as: dee, json: { type: 'group', name: 'other user' } })).status).toBe(201);
    h.clock.advance(10_000);
    expect((await h.request('POST', '/api/rooms', { as: cy, json: { type: 'group', name: 'later' } })).status).toBe(201);
    // Nothing of the refused request was created.
    const names = ChatRoomListSchema.parse((await h.request('GET', '/api/rooms', { as: cy })).body).rooms.map((r) => r.name);
    expect(names).not.toContain('one too many');
  });
});
