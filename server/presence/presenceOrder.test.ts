import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { uuidv4 } from '../../shared/ids.ts';
import { ServerPresenceStateSchema, type ServerPresenceState } from '../../shared/protocol/awarenessStates.ts';
import { openTempDirectory } from '../../test/support/apiHarness.ts';
import { logModule } from '../../test/support/logCapture.ts';
import { SqliteDirectory } from '../storage/DirectoryApi.ts';
import type { StoredPresence } from '../storage/PresenceRepo.ts';
import { SqliteAsync } from '../storage/SqliteAsync.ts';
import { PresenceChanges } from './PresenceChanges.ts';
import { PresencePublisher, PRESENCE_COALESCE_MS } from './PresencePublisher.ts';
import { PresenceTracker } from './PresenceTracker.ts';

/*
 * Presence on the asynchronous directory: a write or a read now takes time, and connections come
 * and go meanwhile. These hold a write or a read (as a slow PostgreSQL query would) and check that
 * the state published last is the state after the last change.
 */

const logger = logModule.createLogger('silent');
let env: ReturnType<typeof openTempDirectory>;
beforeEach(() => (env = openTempDirectory()));
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
  env.dispose();
});

describe('PresenceChanges', () => {
  it('tells the listeners of a disconnection only once its last seen is stored, and handles a user’s changes in order', async () => {
    const ben = uuidv4();
    const events: string[] = [];
    // Each write answers a turn later, as a query over the network does.
    const store = {
      presence: {
        setLastSeen: (userId: string, ms: number): Promise<void> => {
          events.push(`write ${ms}`);
          return new Promise((resolve) => setImmediate(() => (events.push(`stored ${ms}`), resolve())));
        },
      },
    };
    const changes = new PresenceChanges({ directory: store, logger, tell: (userId) => events.push(`tell ${userId === ben ? 'ben' : userId}`) });
    changes.changed({ userId: ben, online: false, at: 1, cause: 'disconnected' });
    changes.changed({ userId: ben, online: true, at: 2, cause: 'connected' });
    changes.changed({ userId: ben, online: false, at: 3, cause: 'disconnected' });
    await changes.close();
    expect(events).toEqual(['write 1', 'stored 1', 'tell ben', 'tell ben', 'write 3', 'stored 3', 'tell ben']);
  });
});

/**
 * The next read of stored presence reads now and answers once `release` is called (SqliteAsync
 * resolves with the promise it is handed); `reached` resolves when the read was made.
 */
function lateStoredPresenceRead(): { reached: Promise<void>; release: () => void } {
  const presence = env.directory.presence;
  const getMany = presence.getMany.bind(presence);
  let release = (): void => {};
  const released = new Promise<void>((resolve) => (release = resolve));
  let reach = (): void => {};
  const reached = new Promise<void>((resolve) => (reach = resolve));
  vi.spyOn(presence, 'getMany').mockImplementationOnce((ids) => {
    const answer = getMany(ids);
    reach();
    return released.then(() => answer) as unknown as Map<string, StoredPresence>;
  });
  return { reached, release };
}

describe('PresencePublisher', () => {
  it('publishes last the state read after the last change, when a change lands while a publication is reading', async () => {
    vi.useFakeTimers();
    const [ana, ben] = ['Ana', 'Ben'].map((name) => ({ id: uuidv4(), name }));
    for (const user of [ana!, ben!]) env.directory.users.upsert(user);
    const room = env.directory.createRoom({ type: 'group', name: 'g', company_id: null, is_active: true, extra_metadata: {}, members: [{ user_id: ben!.id, role: 'member' }] }, ana!.id);
    const tracker = new PresenceTracker();
    const publisher = new PresencePublisher(new SqliteDirectory(env.directory, new SqliteAsync(env.db)), tracker, logger);
    const states: ServerPresenceState[] = [];
    let second = (): void => {};
    const twice = new Promise<void>((resolve) => (second = resolve));

    // The first read of stored presence reads now and answers late.
    const { reached, release } = lateStoredPresenceRead();

    publisher.roomLoaded({
      roomId: room.id,
      roomAwareness: {
        setServerState: (state) => {
          if (states.push(ServerPresenceStateSchema.parse(state)) === 2) second();
        },
      },
    });
    await reached;
    // While that read waits: Ben sets a status, and the room is due to publish again.
    env.directory.presence.setStatus(ben!.id, 'in a meeting');
    publisher.userChanged(ben!.id);
    await vi.advanceTimersByTimeAsync(PRESENCE_COALESCE_MS);
    release();
    // Two publications: the one that was reading, and one after the change (in either order).
    await twice;
    await publisher.close();
    expect(states).toHaveLength(2);
    expect(states.at(-1)?.presence[ben!.id]?.status).toBe('in a meeting');
  });
});

describe('PresencePublisher, presence read ahead of a load', () => {
  it('sets the presence read by ready within the load; a change during that read is published again right after', async () => {
    const [ana, ben] = ['Ana', 'Ben'].map((name) => ({ id: uuidv4(), name })) as [{ id: string; name: string }, { id: string; name: string }];
    for (const user of [ana, ben]) env.directory.users.upsert(user);
    const room = env.directory.createRoom({ type: 'group', name: 'g', company_id: null, is_active: true, extra_metadata: {}, members: [{ user_id: ben.id, role: 'member' }] }, ana.id);
    const tracker = new PresenceTracker();
    tracker.connect(ben.id);
    const publisher = new PresencePublisher(new SqliteDirectory(env.directory, new SqliteAsync(env.db)), tracker, logger);
    const states: ServerPresenceState[] = [];
    let second = (): void => {};
    const twice = new Promise<void>((resolve) => (second = resolve));

    // The read ahead reads stored presence now and answers late.
    const { reached, release } = lateStoredPresenceRead();

    const ready = publisher.ready(room.id);
    expect(ready).not.toBeNull();
    await reached;
    // While that read waits, Ben sets a status.
    env.directory.presence.setStatus(ben.id, 'in a meeting');
    publisher.userChanged(ben.id);
    release();
    await ready;

    publisher.roomLoaded({
      roomId: room.id,
      roomAwareness: {
        setServerState: (state) => {
          if (states.push(ServerPresenceStateSchema.parse(state)) === 2) second();
        },
      },
    });
    // Within the load: both members, online as the tracker says now, the status as read.
    expect(states).toHaveLength(1);
    expect(states[0]?.presence).toMatchObject({ [ana.id]: { is_online: false, status: null }, [ben.id]: { is_online: true, status: null } });
    // Loaded: nothing more to wait for.
    expect(publisher.ready(room.id)).toBeNull();
    await twice;
    await publisher.close();
    expect(states.at(-1)?.presence[ben.id]).toMatchObject({ is_online: true, status: 'in a meeting' });
  });
});
