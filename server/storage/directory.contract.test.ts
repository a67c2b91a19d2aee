import type pg from 'pg';
import { beforeEach, describe, expect, test, vi } from 'vitest';
import { uuidv4 } from '../../shared/ids.ts';
import { ParleyError } from '../../shared/errors/errorCodes.ts';
import type { ChatMessage } from '../../shared/models/chatMessage.ts';
import type { ChatRoom, ChatRoomCreate } from '../../shared/models/chatRoom.ts';
import { toTimestamp } from '../../shared/models/timestamps.ts';
import { Directory, type LeaveOutcome } from './Directory.ts';
import { SqliteDirectory, type DirectoryApi } from './DirectoryApi.ts';
import { SqliteAsync } from './SqliteAsync.ts';
import { MemberRepo } from './MemberRepo.ts';
import { PgDirectory } from './pg/PgDirectory.ts';
import { PgMemberRepo } from './pg/PgMemberRepo.ts';
import { directKeyOf } from './RoomRepo.ts';
import { CorruptRowError } from './sqlRows.ts';
import type { Db } from './openDatabase.ts';
import { chatMessage, T0 } from '../../test/support/apiHarness.ts';
import { repoBackends } from '../../test/support/repoBackends.ts';

type AnyDirectory = DirectoryApi;

/** The directory on one backend, and what the cases do under it or in the backend's own shape. */
interface Harness {
  readonly dir: AnyDirectory;
  /** The first column of the first row of raw SQL (`?` placeholders): what is stored, under the repositories. */
  value(sql: string, ...params: unknown[]): Promise<unknown>;
  /** The first row of raw SQL. */
  row(sql: string, ...params: unknown[]): Promise<unknown>;
  /** A raw write: a row the repositories would never write. */
  run(sql: string, ...params: unknown[]): Promise<void>;
  /** A directory on a connection opened anew (SQLite: this one closed first, as a restart; PostgreSQL: another node's pool). */
  reopen(): Promise<AnyDirectory>;
  /** A directory on another connection, and the statements it ran since `forget`. */
  watched(): Promise<{ dir: AnyDirectory; executed(): string[]; forget(): void }>;
  /** What inserting a second member row for one (room, user) throws. */
  readonly duplicateMember: RegExp;
  /** Makes members.insert throw `error` for `userId`, in every directory (a transaction's too); returns the undo. */
  failMemberInsert(userId: string, error: Error): () => void;
  /** In the backend's transaction shape: upserts user `id`, sets their status in a nested transaction, then throws 'abort'. */
  abortAfterNested(id: string): Promise<void>;
  /** A transaction whose function returns `value`. */
  transactionValue<T>(value: T): Promise<T>;
}

/** `?` placeholders as PostgreSQL numbers them. */
const numbered = (sql: string): string => {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
};

const sqliteDirectory = (db: Db): SqliteDirectory => new SqliteDirectory(new Directory(db), new SqliteAsync(db));

const abortAfterNested = (dir: DirectoryApi, id: string): Promise<void> =>
  dir.transaction(async (tx) => {
    await tx.users.upsert({ id, name: 'Temp' });
    await tx.transaction((nested) => nested.presence.setStatus(id, 'x'));
    throw new Error('abort');
  });

const pgHarness = (pool: pg.Pool, anotherNode: () => Promise<pg.Pool>): Harness => {
  const dir = new PgDirectory(pool);
  const row = async (sql: string, ...params: unknown[]): Promise<unknown> => (await pool.query(numbered(sql), params)).rows[0];
  return {
    dir,
    row,
    value: async (sql, ...params) => Object.values((await row(sql, ...params)) ?? {})[0],
    run: async (sql, ...params) => void (await pool.query(numbered(sql), params)),
    reopen: async () => new PgDirectory(await anotherNode()),
    async watched() {
      const other = await anotherNode();
      const query = vi.spyOn(other, 'query');
      return { dir: new PgDirectory(other), executed: () => query.mock.calls.map((call) => String(call[0])), forget: () => void query.mockClear() };
    },
    duplicateMember: /duplicate key value violates unique constraint "members_room_id_user_id_key"/,
    failMemberInsert(userId, error) {
      const insert = PgMemberRepo.prototype.insert;
      const spy = vi.spyOn(PgMemberRepo.prototype, 'insert').mockImplementation(function (this: PgMemberRepo, member, now) {
        return member.userId === userId ? Promise.reject(error) : insert.call(this, member, now);
      });
      return () => spy.mockRestore();
    },
    abortAfterNested: (id) => abortAfterNested(dir, id),
    transactionValue: (value) => dir.transaction(async () => value),
  };
};

const { backends, postgresOnly } = repoBackends<Harness>('Directory', {
  sqlite: (db, file) => {
    const dir = sqliteDirectory(db);
    return {
      dir,
      value: async (sql, ...params) => db.prepare(sql).pluck().get(...params),
      row: async (sql, ...params) => db.prepare(sql).get(...params),
      run: async (sql, ...params) => void db.prepare(sql).run(...params),
      async reopen() {
        db.close();
        return sqliteDirectory(file.anotherConnection());
      },
      async watched() {
        // A second connection to the same file that logs every statement it runs.
        const executed: string[] = [];
        const logged = file.anotherConnection({ verbose: (sql) => executed.push(String(sql)) });
        return { dir: sqliteDirectory(logged), executed: () => executed, forget: () => void (executed.length = 0) };
      },
      duplicateMember: /UNIQUE/,
      failMemberInsert(userId, error) {
        const insert = MemberRepo.prototype.insert;
        const spy = vi.spyOn(MemberRepo.prototype, 'insert').mockImplementation(function (this: MemberRepo, member, now) {
          if (member.userId === userId) throw error;
          return insert.call(this, member, now);
        });
        return () => spy.mockRestore();
      },
      abortAfterNested: (id) => abortAfterNested(dir, id),
      transactionValue: (value) => dir.transaction(async () => value),
    };
  },
  postgres: (pool, database) => pgHarness(pool, database.anotherNode),
});

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

/** What `fn` throws or rejects with (fails the test when it returns). */
async function thrown(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  throw new Error('did not throw');
}

/** The ParleyError code `fn` throws. */
async function codeOf(fn: () => unknown): Promise<string> {
  const err = await thrown(fn);
  if (err instanceof ParleyError) return err.code;
  throw err;
}

describe.each(backends)('directory contract: $name', ({ open, runs }) => {
  const it = runs ? test : test.skip;
  let h: Harness;
  let dir: AnyDirectory;

  beforeEach(async () => {
    if (!runs) return;
    h = await open();
    dir = h.dir;
    for (const user of [ana, bruno, carla]) await dir.users.upsert(user, T0);
  });

  describe('UserRepo', () => {
    it('upsert creates, then refreshes the name; unchanged names do not rewrite the row', async () => {
      const id = uuidv4();
      await dir.users.upsert({ id, name: 'First' }, T0);
      await dir.users.upsert({ id, name: 'First' }, T0 + 10);
      const updatedAt = () => h.value('SELECT updated_at FROM users WHERE id = ?', id);
      expect(await updatedAt()).toBe(T0);
      await dir.users.upsert({ id, name: 'Second' }, T0 + 20);
      expect(await dir.users.get(id)).toEqual({ id, name: 'Second' });
      expect(await updatedAt()).toBe(T0 + 20);
    });

    it('placeholders (never authenticated) are not Users until named; ensure never renames', async () => {
      const ghost = uuidv4();
      await dir.users.ensure([ghost, ana.id]);
      expect(await dir.users.get(ghost)).toBeNull();
      expect(await dir.users.get(ana.id)).toEqual(ana);
      expect(await dir.users.get(uuidv4())).toBeNull();
      await dir.users.upsert({ id: ghost, name: 'Ghost' });
      expect(await dir.users.get(ghost)).toEqual({ id: ghost, name: 'Ghost' });
    });

    it('getMany returns the named users among the ids', async () => {
      const ghost = uuidv4();
      await dir.users.ensure([ghost]);
      const found = await dir.users.getMany([ana.id, ghost, uuidv4(), carla.id]);
      expect([...found.values()].sort((a, b) => a.name.localeCompare(b.name))).toEqual([ana, carla]);
      expect((await dir.users.getMany([])).size).toBe(0);
    });

    it('findByName is exact and picks the oldest of namesakes', async () => {
      const younger = uuidv4();
      await dir.users.upsert({ id: younger, name: 'Ana' }, T0 + 1);
      expect(await dir.users.findByName('Ana')).toEqual(ana);
      expect(await dir.users.findByName('ana')).toBeNull();
    });

    it('searchByNamePrefix honours the limit', async () => {
      for (let i = 0; i < 5; i++) await dir.users.upsert({ id: uuidv4(), name: `Bot ${i}` });
      expect((await dir.users.searchByNamePrefix('bot', 3)).map((u) => u.name)).toEqual(['Bot 0', 'Bot 1', 'Bot 2']);
    });

    it('searchByNamePrefix folds ASCII letters only, orders by the folded name then bytes, and takes % and _ literally', async () => {
      for (const name of ['émile', 'Émile', 'Emma', 'eve', 'EVA', 'e_x', 'e%y', 'ex', 'Zoë']) await dir.users.upsert({ id: uuidv4(), name });
      const names = async (prefix: string, limit?: number) => (await dir.users.searchByNamePrefix(prefix, limit)).map((u) => u.name);
      expect(await names('e')).toEqual(['e%y', 'e_x', 'Emma', 'EVA', 'eve', 'ex']);
      expect(await names('E')).toEqual(await names('e'));
      expect(await names('é')).toEqual(['émile']);
      expect(await names('É')).toEqual(['Émile']);
      expect(await names('e_')).toEqual(['e_x']);
      expect(await names('e%')).toEqual(['e%y']);
      expect(await names('ZOË')).toEqual([]);
      expect(await names('zo')).toEqual(['Zoë']);
      // A negative limit is none, as SQLite reads it.
      expect(await names('', -1)).toHaveLength(12);
    });
  });

  describe('RoomRepo and Directory.createRoom', () => {
    it('stores ms and returns ISO timestamps, JSON metadata, booleans; survives a reopen', async () => {
      const room = await dir.createRoom(group([{ user_id: bruno.id, role: 'admin' }], { extra_metadata: { n: 1, deep: { ok: true } } }), ana.id, T0);
      expect(room).toMatchObject({ created_at: toTimestamp(T0), is_active: true, extra_metadata: { n: 1, deep: { ok: true } }, member_count: 2 });
      expect(await h.row('SELECT created_at, is_active FROM rooms WHERE id = ?', room.id)).toEqual({ created_at: T0, is_active: 1 });

      const reopened = await h.reopen();
      expect(await reopened.rooms.getSummary(room.id)).toEqual(room);
      expect((await reopened.members.listActiveUserIds(room.id)).sort()).toEqual([ana.id, bruno.id].sort());
    });

    it('update is partial: absent fields stay, null name clears, metadata is replaced whole', async () => {
      const room = await dir.createRoom(group([], { extra_metadata: { a: 1 } }), ana.id, T0);
      expect(await dir.rooms.update(room.id, { is_active: false }, T0 + 1)).toMatchObject({ name: 'g', is_active: false, extra_metadata: { a: 1 } });
      expect(await dir.rooms.update(room.id, { name: null, extra_metadata: { b: 2 } }, T0 + 2)).toMatchObject({
        name: null,
        is_active: false,
        extra_metadata: { b: 2 },
        updated_at: toTimestamp(T0 + 2),
      });
      expect(await dir.rooms.update(uuidv4(), { name: 'x' })).toBeNull();
    });

    it('direct rooms: keyed by the sorted pair, both owners, unique whichever side creates', async () => {
      const room = await dir.createRoom(group([{ user_id: bruno.id, role: 'member' }], { type: 'direct', name: null }), ana.id);
      expect(await h.value('SELECT direct_key FROM rooms WHERE id = ?', room.id)).toBe(directKeyOf(bruno.id, ana.id));
      expect((await dir.rooms.findDirect(bruno.id, ana.id))?.id).toBe(room.id);
      expect((await dir.members.list(room.id)).map((m) => m.role)).toEqual(['owner', 'owner']);
      const conflict = await thrown(() => dir.createRoom(group([{ user_id: ana.id, role: 'member' }], { type: 'direct' }), bruno.id));
      expect(conflict).toBeInstanceOf(ParleyError);
      expect(conflict).toMatchObject({ code: 'conflict', details: { room_id: room.id } });
    });

    it('createRoom is one transaction: a failure half-way leaves nothing behind', async () => {
      const restore = h.failMemberInsert(carla.id, new Error('disk full'));
      await expect(async () => dir.createRoom(group([{ user_id: bruno.id, role: 'member' }, { user_id: carla.id, role: 'member' }]), ana.id)).rejects.toThrow('disk full');
      restore();
      expect(await h.value('SELECT COUNT(*) FROM rooms')).toBe(0);
      expect(await h.value('SELECT COUNT(*) FROM members')).toBe(0);
    });

    it('createRoom refuses invalid initial members before writing anything', async () => {
      const problems = await thrown(() => dir.createRoom(group([{ user_id: ana.id, role: 'member' }, { user_id: bruno.id, role: 'member' }, { user_id: bruno.id, role: 'admin' }]), ana.id));
      expect(problems).toMatchObject({ code: 'invalid_payload', details: [{ path: ['members', 0, 'user_id'] }, { path: ['members', 2, 'user_id'] }] });
      expect(await codeOf(() => dir.createRoom(group([], { type: 'direct' }), ana.id))).toBe('invalid_payload');
      expect(await h.value('SELECT COUNT(*) FROM rooms')).toBe(0);
    });

    it('setLastMessage stores a checked ChatMessage; null clears it; a stale cache reads as none', async () => {
      const room = await dir.createRoom(group(), ana.id);
      const message = chatMessage(room.id, ana, T0 + 1);
      await dir.rooms.setLastMessage(room.id, message);
      expect((await dir.rooms.getSummary(room.id))?.last_message).toEqual(message);
      await expect(async () => dir.rooms.setLastMessage(room.id, chatMessage(uuidv4(), ana, T0))).rejects.toThrow(/belongs to room/);
      // A caller bypassing the types (say, a message built from decoded document data) is caught here.
      const notAMessage: unknown = { ...message, message_type: 'video' };
      await expect(async () => dir.rooms.setLastMessage(room.id, notAMessage as ChatMessage)).rejects.toThrow();
      await dir.rooms.setLastMessage(room.id, null);
      expect((await dir.rooms.getSummary(room.id))?.last_message).toBeNull();
      await h.run(`UPDATE rooms SET last_message = '{"id": 1' WHERE id = ?`, room.id);
      expect((await dir.rooms.getSummary(room.id))?.last_message).toBeNull();
    });

    it('a corrupt row fails loudly at the read', async () => {
      const room = await dir.createRoom(group(), ana.id);
      await h.run(`UPDATE rooms SET extra_metadata = '[1, 2]' WHERE id = ?`, room.id);
      await expect(async () => dir.rooms.get(room.id)).rejects.toThrow(CorruptRowError);
      await h.run(`UPDATE rooms SET extra_metadata = '{}', is_active = 7 WHERE id = ?`, room.id);
      await expect(async () => dir.rooms.listForUser(ana.id)).rejects.toThrow(/corrupt row in rooms/);
      await h.run(`UPDATE members SET last_read_at = -1 WHERE room_id = ?`, room.id);
      await expect(async () => dir.members.list(room.id)).rejects.toThrow(/corrupt row in members/);
    });

    it('listForUser: active memberships only, newest activity first, in one statement', async () => {
      const first = await dir.createRoom(group([{ user_id: bruno.id, role: 'member' }], { name: 'first' }), ana.id, T0);
      const second = await dir.createRoom(group([], { name: 'second' }), ana.id, T0 + 10);
      const left = await dir.createRoom(group([{ user_id: ana.id, role: 'member' }], { name: 'left' }), bruno.id, T0 + 20);
      await dir.leaveRoom(left.id, ana.id);
      await dir.rooms.setLastMessage(first.id, chatMessage(first.id, bruno, T0 + 30));

      const watched = await h.watched();
      watched.forget();
      const rooms = await watched.dir.rooms.listForUser(ana.id);
      expect(watched.executed()).toHaveLength(1);

      expect(rooms.map((r) => [r.name, r.member_count])).toEqual([
        ['first', 2],
        ['second', 1],
      ]);
      expect(rooms[0]?.last_message?.created_at).toBe(toTimestamp(T0 + 30));
      expect(second.member_count).toBe(1);
    });
  });

  describe('MemberRepo', () => {
    it('setLastReadAt never moves backwards', async () => {
      const room = await dir.createRoom(group([{ user_id: bruno.id, role: 'member' }]), ana.id, T0);
      const readAt = async () => (await dir.members.get(room.id, bruno.id))?.last_read_at;
      expect(await dir.members.setLastReadAt(room.id, bruno.id, T0 + 100)).toBe(true);
      expect(await dir.members.setLastReadAt(room.id, bruno.id, T0 + 50)).toBe(false);
      expect(await dir.members.setLastReadAt(room.id, bruno.id, T0 + 100)).toBe(false);
      expect(await readAt()).toBe(toTimestamp(T0 + 100));
      expect(await dir.members.setLastReadAt(room.id, bruno.id, T0 + 200)).toBe(true);
      expect(await readAt()).toBe(toTimestamp(T0 + 200));
      expect(await dir.members.setLastReadAt(room.id, carla.id, T0 + 300)).toBe(false);
    });

    it('counts and lists active members; inactive rows stay for history', async () => {
      const room = await dir.createRoom(group([{ user_id: bruno.id, role: 'admin' }, { user_id: carla.id, role: 'member' }]), ana.id);
      await dir.members.update(room.id, carla.id, { is_active: false });
      expect(await dir.members.countActive(room.id)).toBe(2);
      expect(await dir.members.countActiveOwners(room.id)).toBe(1);
      expect((await dir.members.listActiveUserIds(room.id)).sort()).toEqual([ana.id, bruno.id].sort());
      expect(await dir.members.list(room.id, { includeInactive: true })).toHaveLength(3);
      expect(await dir.members.getWithUser(room.id, carla.id)).toMatchObject({ is_active: false, user: carla });
      expect(await dir.members.update(room.id, uuidv4(), { is_active: false })).toBeNull();
      // What the validator holds in memory (RoomMemberships): every row, active or not.
      expect((await dir.members.memberships(room.id)).map((m) => [m.user_id, m.role, m.is_active]).sort()).toEqual(
        [
          [ana.id, 'owner', true],
          [bruno.id, 'admin', true],
          [carla.id, 'member', false],
        ].sort(),
      );
      expect(await dir.members.memberships(room.id, uuidv4())).toEqual([]);
      await expect(async () => dir.members.insert({ roomId: room.id, userId: bruno.id, role: 'member' })).rejects.toThrow(h.duplicateMember);
    });

    it("memberships: the validator's columns of every member row, active or not, or of one user", async () => {
      const room = await dir.createRoom(group([{ user_id: bruno.id, role: 'admin' }]), ana.id, T0);
      await dir.members.insert({ roomId: room.id, userId: carla.id, role: 'member' }, T0 + 5);
      await dir.members.update(room.id, carla.id, { is_active: false }, T0 + 9);
      const byUser = <R extends { user_id: string }>(rows: readonly R[]): R[] => [...rows].sort((a, b) => a.user_id.localeCompare(b.user_id));
      expect(byUser(await dir.members.memberships(room.id))).toEqual(
        byUser([
          { user_id: ana.id, role: 'owner', is_active: true, since: T0 },
          { user_id: bruno.id, role: 'admin', is_active: true, since: T0 },
          { user_id: carla.id, role: 'member', is_active: false, since: T0 + 5 },
        ]),
      );
      expect(await dir.members.memberships(room.id, bruno.id)).toEqual([{ user_id: bruno.id, role: 'admin', is_active: true, since: T0 }]);
      expect(await dir.members.memberships(room.id, uuidv4())).toEqual([]);
      expect(await dir.members.memberships(uuidv4())).toEqual([]);
    });

    it('successor: another owner, else the longest-standing admin, else member', async () => {
      const dora = { id: uuidv4(), name: 'Dora' };
      const room = await dir.createRoom(group([{ user_id: bruno.id, role: 'member' }]), ana.id, T0);
      expect((await dir.members.successor(room.id, ana.id))?.user_id).toBe(bruno.id);
      await dir.members.insert({ roomId: room.id, userId: dora.id, role: 'admin' }, T0 + 2);
      await dir.members.insert({ roomId: room.id, userId: carla.id, role: 'admin' }, T0 + 1);
      expect((await dir.members.successor(room.id, ana.id))?.user_id).toBe(carla.id);
      await dir.members.update(room.id, dora.id, { role: 'owner' });
      expect((await dir.members.successor(room.id, ana.id))?.user_id).toBe(dora.id);
    });

    it('ties in membership time fall back to insertion order; a member added before they authenticate has no user yet', async () => {
      const ghost = uuidv4();
      const room = await dir.createRoom(group([{ user_id: carla.id, role: 'member' }, { user_id: ghost, role: 'member' }, { user_id: bruno.id, role: 'member' }]), ana.id, T0);
      expect((await dir.members.list(room.id)).map((m) => [m.user_id, m.user])).toEqual([
        [ana.id, ana],
        [carla.id, carla],
        [ghost, null],
        [bruno.id, bruno],
      ]);
      expect((await dir.members.successor(room.id, ana.id))?.user_id).toBe(carla.id);
      expect(await dir.users.get(ghost)).toBeNull();
      expect((await dir.members.memberships(room.id, ghost))[0]?.since).toBe(T0);
      expect(await dir.members.memberships(room.id, uuidv4())).toEqual([]);
    });

    it('personal state, mutes, audience, co-members and rooms touched since a time', async () => {
      const room = await dir.createRoom(group([{ user_id: bruno.id, role: 'member' }, { user_id: carla.id, role: 'member' }]), ana.id, T0);
      const other = await dir.createRoom(group([]), ana.id, T0);
      expect(await dir.members.personal(room.id, bruno.id)).toEqual({ unread_count: 0, mention_count: 0, muted: false });
      await dir.members.setUnreadCount(room.id, bruno.id, 3);
      await dir.members.setMentionCount(room.id, bruno.id, 1);
      expect(await dir.members.setMuted(room.id, bruno.id, true, T0 + 5)).toBe(true);
      expect(await dir.members.setMuted(room.id, bruno.id, true, T0 + 6)).toBe(false);
      expect(await dir.members.personal(room.id, bruno.id)).toEqual({ unread_count: 3, mention_count: 1, muted: true });
      expect(await dir.members.unreadCount(room.id, bruno.id)).toBe(3);
      expect(await dir.members.mentionCount(room.id, bruno.id, { fresh: false })).toBe(1);
      expect(await dir.members.unreadCount(room.id, uuidv4())).toBe(0);
      expect(await dir.members.personal(room.id, uuidv4())).toEqual({ unread_count: 0, mention_count: 0, muted: false });
      await dir.members.update(room.id, carla.id, { is_active: false }, T0 + 7);
      expect(await dir.members.setMuted(room.id, carla.id, true)).toBe(false);
      const audience = await dir.members.audience(room.id);
      expect(audience.sort((a, b) => (a.user_id < b.user_id ? -1 : 1))).toEqual(
        [
          { user_id: ana.id, muted: false },
          { user_id: bruno.id, muted: true },
        ].sort((a, b) => (a.user_id < b.user_id ? -1 : 1)),
      );
      expect((await dir.members.coMembers(ana.id)).sort()).toEqual([bruno.id]);
      expect((await dir.members.activeRoomIds(ana.id)).sort()).toEqual([room.id, other.id].sort());
      expect(await dir.members.roomsTouchedSince(bruno.id, T0)).toEqual([room.id]);
      expect(await dir.members.roomsTouchedSince(bruno.id, T0 + 5)).toEqual([]);
    });
  });

  describe('Directory.leaveRoom', () => {
    it('hands the last owner’s room on, deactivates an emptied room, refuses direct rooms and non-members', async () => {
      const room = await dir.createRoom(group([{ user_id: bruno.id, role: 'member' }]), ana.id);
      expect(await dir.leaveRoom(room.id, ana.id)).toEqual({ newOwnerId: bruno.id, roomDeactivated: false });
      expect(await codeOf(() => dir.leaveRoom(room.id, ana.id))).toBe('not_a_member');
      expect(await dir.leaveRoom(room.id, bruno.id)).toEqual({ newOwnerId: null, roomDeactivated: true });
      expect((await dir.rooms.get(room.id))?.is_active).toBe(false);
      expect(await codeOf(() => dir.leaveRoom(uuidv4(), ana.id))).toBe('not_found');

      const direct = await dir.createRoom(group([{ user_id: carla.id, role: 'member' }], { type: 'direct', name: null }), ana.id);
      expect(await codeOf(() => dir.leaveRoom(direct.id, carla.id))).toBe('forbidden');
    });
  });

  describe('PresenceRepo', () => {
    it('never-seen users read as nulls; last seen never moves backwards; status sets and clears', async () => {
      expect(await dir.presence.get(ana.id)).toEqual({ last_seen_at: null, status: null });
      await dir.presence.setLastSeen(ana.id, T0 + 100);
      await dir.presence.setLastSeen(ana.id, T0 + 50);
      expect(await dir.presence.get(ana.id)).toEqual({ last_seen_at: toTimestamp(T0 + 100), status: null });
      await dir.presence.setStatus(ana.id, 'busy');
      expect(await dir.presence.get(ana.id)).toEqual({ last_seen_at: toTimestamp(T0 + 100), status: 'busy' });
      await dir.presence.setStatus(ana.id, null);
      expect((await dir.presence.get(ana.id)).status).toBeNull();
    });

    it('getMany answers every id; writes for an unknown user create a placeholder user', async () => {
      const stranger = uuidv4();
      await dir.presence.setStatus(stranger, 'hi');
      expect(await dir.users.get(stranger)).toBeNull();
      const many = await dir.presence.getMany([stranger, bruno.id]);
      expect(Object.fromEntries(many)).toEqual({
        [stranger]: { last_seen_at: null, status: 'hi' },
        [bruno.id]: { last_seen_at: null, status: null },
      });
      const late = uuidv4();
      await dir.presence.setLastSeen(late, T0);
      expect(await dir.presence.get(late)).toEqual({ last_seen_at: toTimestamp(T0), status: null });
    });
  });

  describe('Directory.transaction', () => {
    it('rolls back everything when the function throws, and nests', async () => {
      const id = uuidv4();
      await expect(() => h.abortAfterNested(id)).rejects.toThrow('abort');
      expect(await dir.users.get(id)).toBeNull();
      expect((await dir.presence.get(id)).status).toBeNull();
      expect(await h.transactionValue(42)).toBe(42);
    });
  });
});

/** Resolves once `pending` settles, or once a connection to the database waits for a lock (one that the caller holds). */
async function settledOrBlocked(pending: Promise<unknown>, pool: pg.Pool): Promise<void> {
  let settled = false;
  pending.then(
    () => (settled = true),
    () => (settled = true),
  );
  while (!settled) {
    const { rows } = await pool.query(`SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`);
    if (Number(rows[0]?.n) > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe(postgresOnly.name, () => {
  const it = postgresOnly.runs ? test : test.skip;

  /** Two nodes' directories on one fresh database, with Ana, Bruno and Carla. */
  async function twoNodes(): Promise<{ a: PgDirectory; b: PgDirectory; pool: pg.Pool }> {
    const database = await postgresOnly.open();
    const a = new PgDirectory(database.pool);
    for (const user of [ana, bruno, carla]) await a.users.upsert(user, T0);
    return { a, b: new PgDirectory(await database.anotherNode()), pool: database.pool };
  }

  it('two owners leaving one room at once on two nodes take turns: the room keeps an owner', async () => {
    const { a, b, pool } = await twoNodes();
    const room = await a.createRoom(group([{ user_id: bruno.id, role: 'admin' }, { user_id: carla.id, role: 'member' }]), ana.id, T0);
    await a.members.update(room.id, bruno.id, { role: 'owner' });
    let second: Promise<LeaveOutcome> | undefined;
    const first = await a.transaction(async (tx) => {
      const outcome = await tx.leaveRoom(room.id, ana.id);
      // Bruno leaves on the other node before Ana's leaving commits: he waits for the room's lock,
      // then sees himself the last owner. Without the lock both would see two owners.
      second = b.leaveRoom(room.id, bruno.id);
      await settledOrBlocked(second, pool);
      return outcome;
    });
    expect(first).toEqual({ newOwnerId: null, roomDeactivated: false });
    expect(await second).toEqual({ newOwnerId: carla.id, roomDeactivated: false });
    expect(await a.members.memberships(room.id, carla.id)).toMatchObject([{ role: 'owner', is_active: true }]);
  });

  it('two nodes creating one direct room at once: one room, and a conflict naming it', async () => {
    const { a, b, pool } = await twoNodes();
    const direct = (other: string): ChatRoomCreate => group([{ user_id: other, role: 'member' }], { type: 'direct', name: null });
    let second: Promise<ChatRoom> | undefined;
    const room = await a.transaction(async (tx) => {
      const created = await tx.createRoom(direct(bruno.id), ana.id);
      second = b.createRoom(direct(ana.id), bruno.id);
      await settledOrBlocked(second, pool);
      return created;
    });
    expect(await thrown(() => second)).toMatchObject({ code: 'conflict', details: { room_id: room.id } });
    expect(await pool.query('SELECT id FROM rooms')).toMatchObject({ rowCount: 1 });
  });

  it('the freshen hook is handed the directory of the read: inside a transaction it writes in it (SQLite: one connection, nothing to hand)', async () => {
    const { a } = await twoNodes();
    const room = await a.createRoom(group([{ user_id: bruno.id, role: 'member' }]), ana.id, T0);
    const handed: PgDirectory[] = [];
    a.freshenProjectionsWith(async (directory) => {
      handed.push(directory);
      await directory.members.setUnreadCount(room.id, bruno.id, handed.length);
    });
    expect(await a.members.unreadCount(room.id, bruno.id)).toBe(1);
    expect(handed[0]).toBe(a);
    const undone = a.transaction(async (tx) => {
      expect(await tx.members.unreadCount(room.id, bruno.id)).toBe(2);
      expect(handed[1]).toBe(tx);
      throw new Error('undo');
    });
    await expect(undone).rejects.toThrow('undo');
    expect(await a.members.unreadCount(room.id, bruno.id, { fresh: false })).toBe(1);
  });
});
