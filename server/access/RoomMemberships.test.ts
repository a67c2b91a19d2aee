import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { uuidv4 } from '../../shared/ids.ts';
import { Directory } from '../storage/Directory.ts';
import { SqliteDirectory } from '../storage/DirectoryApi.ts';
import { openDatabase, type Db } from '../storage/openDatabase.ts';
import { SqliteAsync } from '../storage/SqliteAsync.ts';
import { makeTempDir } from '../../test/support/tempDir.ts';
import { RoomMemberships } from './RoomMemberships.ts';

describe('RoomMemberships: the validator’s memberships in memory', () => {
  let tmp: ReturnType<typeof makeTempDir>;
  let db: Db;
  let dir: SqliteDirectory;
  let memberships: RoomMemberships;
  const ana = uuidv4();
  const bruno = uuidv4();
  let roomId: string;

  beforeEach(async () => {
    tmp = makeTempDir();
    db = openDatabase(`${tmp.dir}/p.db`);
    dir = new SqliteDirectory(new Directory(db), new SqliteAsync(db));
    memberships = new RoomMemberships(dir);
    roomId = (await dir.createRoom({ name: 'r', type: 'group', company_id: null, is_active: true, extra_metadata: {}, members: [{ user_id: bruno, role: 'member' }] }, ana, 1_000)).id;
  });
  afterEach(() => {
    db.close();
    tmp.remove();
  });

  test('answers nothing for a room not loaded, everything once ready, and nothing again once forgotten', async () => {
    expect(memberships.activeRole(roomId, ana)).toBeNull();
    await memberships.ready(roomId);
    expect(memberships.ready(roomId)).toBeNull();
    expect(memberships.activeRole(roomId, ana)).toBe('owner');
    expect(memberships.activeRole(roomId, bruno)).toBe('member');
    expect(memberships.memberSince(roomId, bruno)).toBe(1_000);
    memberships.forget(roomId);
    expect(memberships.activeRole(roomId, ana)).toBeNull();
    expect(memberships.size).toBe(0);
  });

  test('a change is read again and applied; of two changes of one member, the later read wins', async () => {
    await memberships.ready(roomId);
    await dir.members.update(roomId, bruno, { role: 'admin' });
    // The first change's read takes the row now (admin) but answers only after the second change
    // was made (removed): read at once, the second would land first and the first's stale row last.
    const read = dir.members.memberships.bind(dir.members);
    let release: () => void = () => {};
    const late = new Promise<void>((resolve) => (release = resolve));
    vi.spyOn(dir.members, 'memberships').mockImplementationOnce(async (room, user) => {
      const rows = await read(room, user);
      await late;
      return rows;
    });
    const first = memberships.changed(roomId, bruno);
    await dir.members.update(roomId, bruno, { is_active: false });
    const second = memberships.changed(roomId, bruno);
    release();
    await Promise.all([first, second]);
    expect(memberships.activeRole(roomId, bruno)).toBeNull();
    expect(memberships.memberSince(roomId, bruno)).toBe(1_000);
    const carla = uuidv4();
    await dir.members.insert({ roomId, userId: carla, role: 'member' }, 2_000);
    await memberships.changed(roomId, carla);
    expect(memberships.activeRole(roomId, carla)).toBe('member');
  });

  test('a room forgotten while it loads is held again when the load lands (a peer is about to join)', async () => {
    const loading = memberships.ready(roomId);
    memberships.forget(roomId);
    await loading;
    expect(memberships.activeRole(roomId, ana)).toBe('owner');
  });

  test('a failed read rejects whoever waits for it; the next ready reads the room again', async () => {
    const failing = vi.spyOn(dir.members, 'memberships').mockRejectedValueOnce(new Error('database away'));
    await expect(memberships.ready(roomId)).rejects.toThrow('database away');
    await memberships.ready(roomId);
    expect(memberships.activeRole(roomId, ana)).toBe('owner');
    // A refresh that fails leaves the room to be read whole by the next peer.
    failing.mockRejectedValueOnce(new Error('database away'));
    await expect(memberships.changed(roomId, bruno)).rejects.toThrow('database away');
    expect(memberships.ready(roomId)).not.toBeNull();
  });
});
