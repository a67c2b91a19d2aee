import { afterEach, describe, expect, test } from 'vitest';
import { ServerPresenceStateSchema } from '../../shared/protocol/awarenessStates.ts';
import { RoomEventSchemas } from '../../shared/commands/roomEvent.ts';
import type { UserPresence } from '../../shared/models/userPresence.ts';
import { startTestServer, type TestServer } from '../../test/support/serverHarness.ts';
import { CommandClient, answerOk } from '../../test/support/commandClient.ts';
import { postgresSuiteName, postgresTestsRun, startPostgres, type ThrowawayPostgres } from '../../test/support/postgres.ts';

/*
 * A room's members' presence is in its awareness as it loads, before anyone syncs, on either
 * backend (PresencePublisher.ready, awaited through RoomRegistry's prepare): a command client that
 * joins a room not loaded takes it as the baseline and hears only later changes, never every
 * member's presence announced as a change.
 */

interface Backend {
  readonly name: string;
  readonly runs: boolean;
  /** The server's environment for this backend (starting what it needs). */
  readonly env: () => Promise<Record<string, string>>;
}

let postgres: ThrowawayPostgres | null = null;
const backends: Backend[] = [
  { name: 'SQLite', runs: true, env: async () => ({}) },
  {
    name: postgresSuiteName('PostgreSQL'),
    runs: postgresTestsRun(),
    env: async () => {
      postgres = await startPostgres();
      return { PARLEY_DATABASE_URL: await postgres.createDatabase() };
    },
  },
];

let t: TestServer | null = null;
const clients: CommandClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await t?.dispose();
  t = null;
  await postgres?.stop();
  postgres = null;
}, 60_000);

describe.each(backends)('presence at a room’s load ($name)', ({ runs, env }) => {
  const it = runs ? test : test.skip;

  it('the members’ presence is set within the load; a joiner hears later changes only', async () => {
    const server = await startTestServer(await env());
    t = server;
    const ana = await server.login('Ana');
    const ben = await server.login('Ben');
    const roomId = await server.createRoom(ana, [ben]);
    // Started again: the room is not loaded.
    await server.restart();
    expect(server.server.registry.get(roomId)).toBeUndefined();

    const [anaC, benC] = await Promise.all([CommandClient.connect(server, ana), CommandClient.connect(server, ben)]);
    clients.push(anaC, benC);
    let atLoad: Record<string, UserPresence> | null = null;
    const off = server.server.registry.onLoadedDoc((room) => {
      if (room.roomId !== roomId) return;
      const state = ServerPresenceStateSchema.safeParse(room.awareness.getLocalState());
      atLoad = state.success ? state.data.presence : {};
    });
    answerOk(await anaC.request('join_room', { room_id: roomId }), 'join_room');
    off();
    expect(atLoad).toMatchObject({ [ana.id]: { user_id: ana.id, is_online: true }, [ben.id]: { user_id: ben.id, is_online: true } });

    // Anything pushed before this answer is queued by now: no presence was announced as a change.
    answerOk(await anaC.request('fetch_history', { room_id: roomId, limit: 1 }), 'fetch_history');
    expect(anaC.pending().filter((e) => e.type === 'presence_changed')).toEqual([]);

    // A real change is announced.
    await benC.close();
    clients.splice(clients.indexOf(benC), 1);
    const offline = RoomEventSchemas.presence_changed.parse((await anaC.event('presence_changed', (d) => (d['presence'] as { user_id?: string }).user_id === ben.id)).data);
    expect(offline.presence).toMatchObject({ user_id: ben.id, is_online: false });
  }, 60_000);
});
