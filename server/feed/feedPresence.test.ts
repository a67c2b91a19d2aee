import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { FeedChanges } from '../../shared/models/userFeed.ts';
import type { UserPresence } from '../../shared/models/userPresence.ts';
import { uuidv4 } from '../../shared/ids.ts';
import { openTempDirectory } from '../../test/support/apiHarness.ts';
import { logModule } from '../../test/support/logCapture.ts';
import { SqliteDirectory } from '../storage/DirectoryApi.ts';
import { SqliteAsync } from '../storage/SqliteAsync.ts';
import { UserFeed } from './UserFeed.ts';

let env: ReturnType<typeof openTempDirectory>;
beforeEach(() => {
  env = openTempDirectory();
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
  env.dispose();
});

describe('UserFeed presence', () => {
  it('sends each watcher one frame for the presence changes of a window, and nothing about people it shares no room with', async () => {
    const [ana, ben, cleo, dan] = ['Ana', 'Ben', 'Cleo', 'Dan'].map((name) => ({ id: uuidv4(), name }));
    for (const user of [ana!, ben!, cleo!, dan!]) env.directory.users.upsert(user);
    env.directory.createRoom({ type: 'group', name: 'g', company_id: null, is_active: true, extra_metadata: {}, members: [{ user_id: ben!.id, role: 'member' }, { user_id: cleo!.id, role: 'member' }] }, ana!.id);
    const online = new Set<string>();
    const presenceOf = (ids: readonly string[]): Promise<UserPresence[]> => Promise.resolve(ids.map((id) => ({ user_id: id, is_online: online.has(id), last_seen_at: null, status: null })));
    const directory = new SqliteDirectory(env.directory, new SqliteAsync(env.db));
    const feed = new UserFeed({ directory, logger: logModule.createLogger('silent'), presenceOf });
    const frames: FeedChanges[] = [];
    let first: () => void = () => {};
    const sent = new Promise<void>((resolve) => (first = resolve));
    feed.subscribe({ userId: ana!.id, send: (changes) => (frames.push(changes), first()) });

    for (const user of [ben!, cleo!, dan!]) {
      online.add(user.id);
      feed.presenceChanged(user.id);
    }
    await vi.advanceTimersByTimeAsync(199);
    expect(frames).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    await sent;
    await feed.close();
    expect(frames).toHaveLength(1);
    expect(frames[0]?.presence.map((p) => p.user_id).sort()).toEqual([ben!.id, cleo!.id].sort());
  });
});
