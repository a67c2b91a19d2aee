import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../storage/openDatabase.ts';
import { Directory } from '../storage/Directory.ts';
import { startTestServer, type TestServer } from '../../test/support/serverHarness.ts';
import { makeTempDir } from '../../test/support/tempDir.ts';

let t: TestServer | undefined;
afterEach(async () => {
  await t?.dispose();
  t = undefined;
});

type Listed = { rooms: Array<{ id: string; muted?: boolean; unread_count?: number }> };

describe('PUT /api/rooms/:roomId/mute', () => {
  it('mutes the room for the caller only, shown in their own list', async () => {
    t = await startTestServer();
    const [ana, ben] = [await t.login('Ana'), await t.login('Ben')];
    const roomId = await t.createRoom(ana, [ben]);
    const listed = async (who: typeof ana) => ((await t!.api(who, 'GET', '/api/rooms')).body as Listed).rooms.find((r) => r.id === roomId);
    expect(await listed(ben)).toMatchObject({ muted: false, unread_count: 0 });

    const muted = await t.api(ben, 'PUT', `/api/rooms/${roomId}/mute`, { muted: true });
    expect(muted).toMatchObject({ status: 200, body: { id: roomId, muted: true, unread_count: 0 } });
    expect(await listed(ben)).toMatchObject({ muted: true });
    expect(await listed(ana)).toMatchObject({ muted: false });
    // Again: nothing changes, same answer.
    expect(await t.api(ben, 'PUT', `/api/rooms/${roomId}/mute`, { muted: true })).toMatchObject({ status: 200, body: { muted: true } });
    // Nobody else learns of it from the member list.
    const members = (await t.api(ana, 'GET', `/api/rooms/${roomId}/members`)).body as { members: object[] };
    for (const member of members.members) expect(member).not.toHaveProperty('muted');

    expect(await t.api(ben, 'PUT', `/api/rooms/${roomId}/mute`, { muted: false })).toMatchObject({ status: 200, body: { muted: false } });
    expect(await listed(ben)).toMatchObject({ muted: false });
  });

  it('is for active members, with a boolean', async () => {
    t = await startTestServer();
    const [ana, ben, eve] = [await t.login('Ana'), await t.login('Ben'), await t.login('Eve')];
    const roomId = await t.createRoom(ana, [ben]);
    expect(await t.api(eve, 'PUT', `/api/rooms/${roomId}/mute`, { muted: true })).toMatchObject({ status: 403, body: { error: { code: 'not_a_member' } } });
    expect(await t.api(ana, 'PUT', `/api/rooms/00000000-0000-4000-8000-000000000000/mute`, { muted: true })).toMatchObject({ status: 404 });
    expect(await t.api(ben, 'PUT', `/api/rooms/${roomId}/mute`, { muted: 'yes' })).toMatchObject({ status: 400, body: { error: { code: 'invalid_payload' } } });
    expect(await t.api(ben, 'PUT', `/api/rooms/${roomId}/mute`, { muted: true, user_id: ana.id })).toMatchObject({ status: 400 });
    expect(await t.api(null, 'PUT', `/api/rooms/${roomId}/mute`, { muted: true })).toMatchObject({ status: 401 });
    // A former member cannot.
    expect((await t.api(ana, 'DELETE', `/api/rooms/${roomId}/members/${ben.id}`)).status).toBe(204);
    expect(await t.api(ben, 'PUT', `/api/rooms/${roomId}/mute`, { muted: true })).toMatchObject({ status: 403 });
  });
});

describe('the mute migration', () => {
  it('keeps the members of a database from before it, none muted', () => {
    const tmp = makeTempDir();
    try {
      const file = `${tmp.dir}/parley.db`;
      const db = openDatabase(file);
      const directory = new Directory(db);
      const ana = { id: '00000000-0000-4000-8000-00000000000a', name: 'Ana' };
      const ben = { id: '00000000-0000-4000-8000-00000000000b', name: 'Ben' };
      directory.users.upsert(ana);
      directory.users.upsert(ben);
      const room = directory.createRoom({ name: 'old', type: 'group', company_id: null, is_active: true, extra_metadata: {}, members: [{ user_id: ben.id, role: 'member' }] }, ana.id);
      // Back to the schema before this migration, as a database written by the previous release.
      const version = db.pragma('user_version', { simple: true }) as number;
      // (and the migrations after it: the outbox, segment_mentions, the search index, attachments, the index's move to its own file).
      db.exec('DROP TABLE attachments; DROP TABLE attachment_refs; DROP TABLE attachment_tracked;');
            db.exec('DROP TABLE segment_mentions; DROP TABLE notification_outbox; ALTER TABLE members DROP COLUMN muted;');
      db.pragma(`user_version = ${version - 6}`);
      db.close();

      const reopened = openDatabase(file);
      const after = new Directory(reopened);
      expect(after.members.list(room.id).map((m) => m.user_id)).toEqual([ana.id, ben.id]);
      expect(after.members.audience(room.id)).toEqual([
        { user_id: ana.id, muted: false },
        { user_id: ben.id, muted: false },
      ]);
      expect(after.rooms.listForUser(ben.id)).toEqual([expect.objectContaining({ id: room.id, muted: false })]);
      reopened.close();
    } finally {
      tmp.remove();
    }
  });
});
