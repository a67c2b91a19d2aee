import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { uuidv4 } from '../../shared/ids.ts';
import { ParleyError } from '../../shared/errors/errorCodes.ts';
import type { ChatMessage } from '../../shared/models/chatMessage.ts';
import type { ChatRoomCreate } from '../../shared/models/chatRoom.ts';
import { toTimestamp } from '../../shared/models/timestamps.ts';
import { Directory } from './Directory.ts';
import { directKeyOf } from './RoomRepo.ts';
import { CorruptRowError } from './sqlRows.ts';
import { chatMessage, openTempDirectory, T0 } from '../../test/support/apiHarness.ts';

let env: ReturnType<typeof openTempDirectory>;
let dir: Directory;
const ana = { id: uuidv4(), name: 'Ana' };
const bruno = { id: uuidv4(), name: 'Bruno' };
const carla = { id: uuidv4(), name: 'Carla' };

const group = (members: ChatRoomCreate['members'] = [], extra: Partial<ChatRoomCreate> = {}): ChatRoomCreate => ({
  name: 'g',
  type: 'group',
  company_id: null,
  is_active: true,
  extra_metadata: {},
  members,
  ...extra,
});

/** What `fn` throws (fails the test when it returns). */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('did not throw');
}

/** The ParleyError code `fn` throws. */
function codeOf(fn: () => unknown): string {
  const err = thrown(fn);
  if (err instanceof ParleyError) return err.code;
  throw err;
}

beforeEach(() => {
  env = openTempDirectory();
  dir = env.directory;
  for (const user of [ana, bruno, carla]) dir.users.upsert(user, T0);
});
afterEach(() => env.dispose());

describe('UserRepo', () => {
  it('upsert creates, then refreshes the name; unchanged names do not rewrite the row', () => {
    const id = uuidv4();
    dir.users.upsert({ id, name: 'First' }, T0);
    dir.users.upsert({ id, name: 'First' }, T0 + 10);
    const updatedAt = () => env.db.prepare('SELECT updated_at FROM users WHERE id = ?').pluck().get(id);
    expect(updatedAt()).toBe(T0);
    dir.users.upsert({ id, name: 'Second' }, T0 + 20);
    expect(dir.users.get(id)).toEqual({ id, name: 'Second' });
    expect(updatedAt()).toBe(T0 + 20);
  });

  it('placeholders (never authenticated) are not Users until named; ensure never renames', () => {
    const ghost = uuidv4();
    dir.users.ensure([ghost, ana.id]);
    expect(dir.users.get(ghost)).toBeNull();
    expect(dir.users.get(ana.id)).toEqual(ana);
    expect(dir.users.get(uuidv4())).toBeNull();
    dir.users.upsert({ id: ghost, name: 'Ghost' });
    expect(dir.users.get(ghost)).toEqual({ id: ghost, name: 'Ghost' });
  });

  it('getMany returns the named users among the ids', () => {
    const ghost = uuidv4();
    dir.users.ensure([ghost]);
    const found = dir.users.getMany([ana.id, ghost, uuidv4(), carla.id]);
    expect([...found.values()].sort((a, b) => a.name.localeCompare(b.name))).toEqual([ana, carla]);
    expect(dir.users.getMany([]).size).toBe(0);
  });

  it('findByName is exact and picks the oldest of namesakes', () => {
    const younger = uuidv4();
    dir.users.upsert({ id: younger, name: 'Ana' }, T0 + 1);
    expect(dir.users.findByName('Ana')).toEqual(ana);
    expect(dir.users.findByName('ana')).toBeNull();
  });

  it('searchByNamePrefix honours the limit', () => {
    for (let i = 0; i < 5; i++) dir.users.upsert({ id: uuidv4(), name: `Bot ${i}` });
    expect(dir.users.searchByNamePrefix('bot', 3).map((u) => u.name)).toEqual(['Bot 0', 'Bot 1', 'Bot 2']);
  });
});

describe('RoomRepo and Directory.createRoom', () => {
  it('stores ms and returns ISO timestamps, JSON metadata, booleans; survives a reopen', () => {
    const room = dir.createRoom(group([{ user_id: bruno.id, role: 'admin' }], { extra_metadata: { n: 1, deep: { ok: true } } }), ana.id, T0);
    expect(room).toMatchObject({ created_at: toTimestamp(T0), is_active: true, extra_metadata: { n: 1, deep: { ok: true } }, member_count: 2 });
    expect(env.db.prepare('SELECT created_at, is_active FROM rooms WHERE id = ?').get(room.id)).toEqual({ created_at: T0, is_active: 1 });

    env.db.close();
    const reopened = new Directory(new Database(env.file));
    expect(reopened.rooms.getSummary(room.id)).toEqual(room);
    expect(reopened.members.listActiveUserIds(room.id).sort()).toEqual([ana.id, bruno.id].sort());
  });

  it('update is partial: absent fields stay, null name clears, metadata is replaced whole', () => {
    const room = dir.createRoom(group([], { extra_metadata: { a: 1 } }), ana.id, T0);
    expect(dir.rooms.update(room.id, { is_active: false }, T0 + 1)).toMatchObject({ name: 'g', is_active: false, extra_metadata: { a: 1 } });
    expect(dir.rooms.update(room.id, { name: null, extra_metadata: { b: 2 } }, T0 + 2)).toMatchObject({
      name: null,
      is_active: false,
      extra_metadata: { b: 2 },
      updated_at: toTimestamp(T0 + 2),
    });
    expect(dir.rooms.update(uuidv4(), { name: 'x' })).toBeNull();
  });

  it('direct rooms: keyed by the sorted pair, both owners, unique whichever side creates', () => {
    const room = dir.createRoom(group([{ user_id: bruno.id, role: 'member' }], { type: 'direct', name: null }), ana.id);
    expect(env.db.prepare('SELECT direct_key FROM rooms WHERE id = ?').pluck().get(room.id)).toBe(directKeyOf(bruno.id, ana.id));
    expect(dir.rooms.findDirect(bruno.id, ana.id)?.id).toBe(room.id);
    expect(dir.members.list(room.id).map((m) => m.role)).toEqual(['owner', 'owner']);
    const conflict = thrown(() => dir.createRoom(group([{ user_id: ana.id, role: 'member' }], { type: 'direct' }), bruno.id));
    expect(conflict).toBeInstanceOf(ParleyError);
    expect(conflict).toMatchObject({ code: 'conflict', details: { room_id: room.id } });
  });

  it('createRoom is one transaction: a failure half-way leaves nothing behind', () => {
    const insert = dir.members.insert.bind(dir.members);
    const spy = vi.spyOn(dir.members, 'insert').mockImplementation((member, now) => {
      if (member.userId === carla.id) throw new Error('disk full');
      return insert(member, now);
    });
    expect(() => dir.createRoom(group([{ user_id: bruno.id, role: 'member' }, { user_id: carla.id, role: 'member' }]), ana.id)).toThrow('disk full');
    spy.mockRestore();
    expect(env.db.prepare('SELECT COUNT(*) FROM rooms').pluck().get()).toBe(0);
    expect(env.db.prepare('SELECT COUNT(*) FROM members').pluck().get()).toBe(0);
  });

  it('setLastMessage stores a checked ChatMessage; null clears it; a stale cache reads as none', () => {
    const room = dir.createRoom(group(), ana.id);
    const message = chatMessage(room.id, ana, T0 + 1);
    dir.rooms.setLastMessage(room.id, message);
    expect(dir.rooms.getSummary(room.id)?.last_message).toEqual(message);
    expect(() => dir.rooms.setLastMessage(room.id, chatMessage(uuidv4(), ana, T0))).toThrow(/belongs to room/);
    // A caller bypassing the types (say, a message built from decoded document data) is caught here.
    const notAMessage: unknown = { ...message, message_type: 'video' };
    expect(() => dir.rooms.setLastMessage(room.id, notAMessage as ChatMessage)).toThrow();
    dir.rooms.setLastMessage(room.id, null);
    expect(dir.rooms.getSummary(room.id)?.last_message).toBeNull();
    env.db.prepare(`UPDATE rooms SET last_message = '{"id": 1' WHERE id = ?`).run(room.id);
    expect(dir.rooms.getSummary(room.id)?.last_message).toBeNull();
  });

  it('a corrupt row fails loudly at the read', () => {
    const room = dir.createRoom(group(), ana.id);
    env.db.prepare(`UPDATE rooms SET extra_metadata = '[1, 2]' WHERE id = ?`).run(room.id);
    expect(() => dir.rooms.get(room.id)).toThrow(CorruptRowError);
    env.db.prepare(`UPDATE rooms SET extra_metadata = '{}', is_active = 7 WHERE id = ?`).run(room.id);
    expect(() => dir.rooms.listForUser(ana.id)).toThrow(/corrupt row in rooms/);
  });

  it('listForUser: active memberships only, newest activity first, in one statement', () => {
    const first = dir.createRoom(group([{ user_id: bruno.id, role: 'member' }], { name: 'first' }), ana.id, T0);
    const second = dir.createRoom(group([], { name: 'second' }), ana.id, T0 + 10);
    const left = dir.createRoom(group([{ user_id: ana.id, role: 'member' }], { name: 'left' }), bruno.id, T0 + 20);
    dir.leaveRoom(left.id, ana.id);
    dir.rooms.setLastMessage(first.id, chatMessage(first.id, bruno, T0 + 30));

    // A second connection to the same file that logs every statement it runs.
    const executed: string[] = [];
    const logged = new Database(env.file, { verbose: (sql) => executed.push(String(sql)) });
    const watched = new Directory(logged);
    executed.length = 0;
    const rooms = watched.rooms.listForUser(ana.id);
    expect(executed).toHaveLength(1);
    logged.close();

    expect(rooms.map((r) => [r.name, r.member_count])).toEqual([
      ['first', 2],
      ['second', 1],
    ]);
    expect(rooms[0]?.last_message?.created_at).toBe(toTimestamp(T0 + 30));
    expect(second.member_count).toBe(1);
  });
});

describe('MemberRepo', () => {
  it('setLastReadAt never moves backwards', () => {
    const room = dir.createRoom(group([{ user_id: bruno.id, role: 'member' }]), ana.id, T0);
    const readAt = () => dir.members.get(room.id, bruno.id)?.last_read_at;
    expect(dir.members.setLastReadAt(room.id, bruno.id, T0 + 100)).toBe(true);
    expect(dir.members.setLastReadAt(room.id, bruno.id, T0 + 50)).toBe(false);
    expect(dir.members.setLastReadAt(room.id, bruno.id, T0 + 100)).toBe(false);
    expect(readAt()).toBe(toTimestamp(T0 + 100));
    expect(dir.members.setLastReadAt(room.id, bruno.id, T0 + 200)).toBe(true);
    expect(readAt()).toBe(toTimestamp(T0 + 200));
    expect(dir.members.setLastReadAt(room.id, carla.id, T0 + 300)).toBe(false);
  });

  it('counts and lists active members; inactive rows stay for history', () => {
    const room = dir.createRoom(group([{ user_id: bruno.id, role: 'admin' }, { user_id: carla.id, role: 'member' }]), ana.id);
    dir.members.update(room.id, carla.id, { is_active: false });
    expect(dir.members.countActive(room.id)).toBe(2);
    expect(dir.members.countActiveOwners(room.id)).toBe(1);
    expect(dir.members.listActiveUserIds(room.id).sort()).toEqual([ana.id, bruno.id].sort());
    expect(dir.members.list(room.id, { includeInactive: true })).toHaveLength(3);
    expect(dir.members.getWithUser(room.id, carla.id)).toMatchObject({ is_active: false, user: carla });
    expect(dir.members.update(room.id, uuidv4(), { is_active: false })).toBeNull();
    // The sync path's role lookup: active members only.
    expect(dir.members.activeRole(room.id, ana.id)).toBe('owner');
    expect(dir.members.activeRole(room.id, bruno.id)).toBe('admin');
    expect(dir.members.activeRole(room.id, carla.id)).toBeNull();
    expect(dir.members.activeRole(room.id, uuidv4())).toBeNull();
    expect(() => dir.members.insert({ roomId: room.id, userId: bruno.id, role: 'member' })).toThrow(/UNIQUE/);
  });

  it('successor: another owner, else the longest-standing admin, else member', () => {
    const dora = { id: uuidv4(), name: 'Dora' };
    const room = dir.createRoom(group([{ user_id: bruno.id, role: 'member' }]), ana.id, T0);
    expect(dir.members.successor(room.id, ana.id)?.user_id).toBe(bruno.id);
    dir.members.insert({ roomId: room.id, userId: dora.id, role: 'admin' }, T0 + 2);
    dir.members.insert({ roomId: room.id, userId: carla.id, role: 'admin' }, T0 + 1);
    expect(dir.members.successor(room.id, ana.id)?.user_id).toBe(carla.id);
    dir.members.update(room.id, dora.id, { role: 'owner' });
    expect(dir.members.successor(room.id, ana.id)?.user_id).toBe(dora.id);
  });
});

describe('Directory.leaveRoom', () => {
  it('hands the last owner’s room on, deactivates an emptied room, refuses direct rooms and non-members', () => {
    const room = dir.createRoom(group([{ user_id: bruno.id, role: 'member' }]), ana.id);
    expect(dir.leaveRoom(room.id, ana.id)).toEqual({ newOwnerId: bruno.id, roomDeactivated: false });
    expect(codeOf(() => dir.leaveRoom(room.id, ana.id))).toBe('not_a_member');
    expect(dir.leaveRoom(room.id, bruno.id)).toEqual({ newOwnerId: null, roomDeactivated: true });
    expect(dir.rooms.get(room.id)?.is_active).toBe(false);
    expect(codeOf(() => dir.leaveRoom(uuidv4(), ana.id))).toBe('not_found');

    const direct = dir.createRoom(group([{ user_id: carla.id, role: 'member' }], { type: 'direct', name: null }), ana.id);
    expect(codeOf(() => dir.leaveRoom(direct.id, carla.id))).toBe('forbidden');
  });
});

describe('PresenceRepo', () => {
  it('never-seen users read as nulls; last seen never moves backwards; status sets and clears', () => {
    expect(dir.presence.get(ana.id)).toEqual({ last_seen_at: null, status: null });
    dir.presence.setLastSeen(ana.id, T0 + 100);
    dir.presence.setLastSeen(ana.id, T0 + 50);
    expect(dir.presence.get(ana.id)).toEqual({ last_seen_at: toTimestamp(T0 + 100), status: null });
    dir.presence.setStatus(ana.id, 'busy');
    expect(dir.presence.get(ana.id)).toEqual({ last_seen_at: toTimestamp(T0 + 100), status: 'busy' });
    dir.presence.setStatus(ana.id, null);
    expect(dir.presence.get(ana.id).status).toBeNull();
  });

  it('getMany answers every id; writes for an unknown user create a placeholder user', () => {
    const stranger = uuidv4();
    dir.presence.setStatus(stranger, 'hi');
    expect(dir.users.get(stranger)).toBeNull();
    const many = dir.presence.getMany([stranger, bruno.id]);
    expect(Object.fromEntries(many)).toEqual({
      [stranger]: { last_seen_at: null, status: 'hi' },
      [bruno.id]: { last_seen_at: null, status: null },
    });
  });
});

describe('Directory.transaction', () => {
  it('rolls back everything when the function throws, and nests', () => {
    const id = uuidv4();
    expect(() =>
      dir.transaction(() => {
        dir.users.upsert({ id, name: 'Temp' });
        dir.transaction(() => dir.presence.setStatus(id, 'x'));
        throw new Error('abort');
      }),
    ).toThrow('abort');
    expect(dir.users.get(id)).toBeNull();
    expect(dir.presence.get(id).status).toBeNull();
    expect(dir.transaction(() => 42)).toBe(42);
  });
});
