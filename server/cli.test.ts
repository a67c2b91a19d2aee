import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { openDatabase } from './storage/openDatabase.ts';
import { SqliteUpdateStore } from './storage/SqliteUpdateStore.ts';
import { createMessage } from '../shared/roomDoc/messageOps.ts';
import { listMessages } from '../shared/roomDoc/queries.ts';
import { CloseCode } from '../shared/protocol/closeCodes.ts';
import { acknowledged, closedByServer, openProvider, synced } from '../test/support/serverHarness.ts';
import { startChildServer, type ChildServer } from '../test/support/childServer.ts';
import { makeTempDir } from '../test/support/tempDir.ts';

async function post(url: string, route: string, body: unknown, token?: string): Promise<Record<string, unknown>> {
  const res = await fetch(url + route, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  expect(res.status).toBeLessThan(300);
  return (await res.json()) as Record<string, unknown>;
}

describe('the server process', () => {
  const cleanups: Array<() => void> = [];
  afterEach(() => cleanups.splice(0).forEach((fn) => fn()));

  it.each(['SIGTERM', 'SIGINT'] as const)('prints its URL, and on %s closes sockets with 1001, commits and exits 0', async (signal) => {
    const tmp = makeTempDir();
    cleanups.push(tmp.remove);
    const server: ChildServer = await startChildServer(['--dev', '--port', '0', '--data-dir', tmp.dir]);
    cleanups.push(() => server.child.kill('SIGKILL'));
    expect((await fetch(server.url + '/healthz')).status).toBe(200);

    const login = await post(server.url, '/api/auth/dev-login', { name: 'Ana' });
    const token = String(login.token);
    const userId = String((login.user as { id: string }).id);
    const room = await post(server.url, '/api/rooms', { name: 'general', type: 'group' }, token);
    const doc = new Y.Doc();
    const provider = openProvider(server.url.replace('http', 'ws') + '/sync', String(room.id), token, { doc, parley: true });
    cleanups.push(() => provider.destroy());
    await synced(provider);
    createMessage(doc, { userId, role: 'owner' }, { content: 'before shutdown' });
    await acknowledged(provider);

    const closed = closedByServer(provider);
    server.child.kill(signal);
    expect((await closed).code).toBe(CloseCode.GoingAway);
    expect(await server.exited).toBe(0);
    provider.destroy();
    expect(server.stdout.some((line) => line.includes(`Parley is running at ${server.url}`))).toBe(true);

    const db = openDatabase(path.join(tmp.dir, 'parley.db'));
    const stored = new SqliteUpdateStore(db).load(String(room.id));
    db.close();
    const reloaded = new Y.Doc();
    if (stored.snapshot) Y.applyUpdate(reloaded, stored.snapshot);
    for (const u of stored.updates) Y.applyUpdate(reloaded, u);
    expect(listMessages(reloaded, { limit: 10 }).messages.map((m) => m.content)).toEqual(['before shutdown']);
  });

  it('refuses to start without a JWT secret outside dev mode, naming the variable (exit 2)', async () => {
    const tmp = makeTempDir();
    cleanups.push(tmp.remove);
    await expect(startChildServer(['--port', '0', '--data-dir', tmp.dir], { PARLEY_JWT_SECRET: '' })).rejects.toThrow(
      /exited \(2\)[\s\S]*PARLEY_JWT_SECRET/,
    );
  });
});
