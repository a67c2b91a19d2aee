import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { uuidv4 } from '../../shared/ids.ts';
import { openTempDirectory } from '../../test/support/apiHarness.ts';
import { logModule } from '../../test/support/logCapture.ts';
import type { PersonalRoomState } from '../storage/MemberRepo.ts';
import { SqliteDirectory } from '../storage/DirectoryApi.ts';
import { SqliteAsync } from '../storage/SqliteAsync.ts';
import { UserFeed } from './UserFeed.ts';

let env: ReturnType<typeof openTempDirectory>;
beforeEach(() => (env = openTempDirectory()));
afterEach(() => {
  vi.restoreAllMocks();
  env.dispose();
});

describe('UserFeed.close', () => {
  it('waits for a change it started, so nothing is read or written after the database closes', async () => {
    const [ana, ben] = ['Ana', 'Ben'].map((name) => ({ id: uuidv4(), name }));
    for (const user of [ana!, ben!]) env.directory.users.upsert(user);
    const room = env.directory.createRoom({ type: 'group', name: 'g', company_id: null, is_active: true, extra_metadata: {}, members: [{ user_id: ben!.id, role: 'member' }] }, ana!.id);
    const feed = new UserFeed({ directory: new SqliteDirectory(env.directory, new SqliteAsync(env.db)), logger: logModule.createLogger('silent') });
    const events: string[] = [];
    feed.subscribe({ userId: ben!.id, send: (changes) => events.push(`pushed ${changes.cursor.split('.')[0]}`) });

    // The read for Ben's frame answers late (as a PostgreSQL read may): SqliteAsync resolves with the promise it is handed.
    const members = env.directory.members;
    const personal = members.personal.bind(members);
    let release = (): void => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    let reach = (): void => {};
    const reached = new Promise<void>((resolve) => (reach = resolve));
    vi.spyOn(members, 'personal').mockImplementationOnce((roomId, userId, opts) => {
      reach();
      return released.then(() => personal(roomId, userId, opts)) as unknown as PersonalRoomState;
    });

    const change = feed.roomChanged(room.id);
    await reached;
    const closed = feed.close().then(() => events.push('closed'));
    // Refused once closing: nothing more is started.
    await feed.roomChanged(room.id);
    release();
    await Promise.all([change, closed]);
    expect(events).toEqual(['pushed 1', 'closed']);
    expect(env.directory.feed.lastSeq(ben!.id)).toBe(1);
  });
});
