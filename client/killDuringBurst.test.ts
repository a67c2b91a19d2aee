import path from 'node:path';
import * as Y from 'yjs';
import { afterAll, describe, expect, it } from 'vitest';
import type { ChatClient } from './ChatClient.ts';
import type { ChatRoom } from './room/ChatRoom.ts';
import { openDatabase } from '../server/storage/openDatabase.ts';
import { SqliteUpdateStore } from '../server/storage/SqliteUpdateStore.ts';
import { getMessage, messageCount } from '../shared/roomDoc/queries.ts';
import { startChildServer, type ChildServer } from '../test/support/childServer.ts';
import { makeTempDir } from '../test/support/tempDir.ts';
import { freePort, freshDbName, openTestClient, until } from '../test/support/clientHarness.ts';

const CLIENTS = 5;
const PER_CLIENT = 200;
const CHUNK = 10;
/** Kill once this many messages were written and at least KILL_AFTER_SENT shown as sent: mid-burst, with messages in flight. */
const KILL_AFTER_WRITTEN = 400;
const KILL_AFTER_SENT = 100;

const tmp = makeTempDir('parley-kill-');
let child: ChildServer | null = null;
const clients: ChatClient[] = [];
afterAll(async () => {
  for (const c of clients) await c.close();
  child?.child.kill('SIGKILL');
  await child?.exited;
  tmp.remove();
});

const start = (port: number): Promise<ChildServer> =>
  startChildServer(['--dev', '--port', String(port), '--data-dir', tmp.dir], { PARLEY_LOG_LEVEL: 'info' });

async function post(url: string, route: string, body: unknown, token?: string): Promise<unknown> {
  const res = await fetch(url + route, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${route}: ${res.status} ${await res.text()}`);
  return res.json();
}

/** The room as the server's SQLite file holds it (read while the server is dead). */
function storedDoc(roomId: string): Y.Doc {
  const db = openDatabase(path.join(tmp.dir, 'parley.db'));
  try {
    const stored = new SqliteUpdateStore(db).load(roomId);
    const doc = new Y.Doc();
    if (stored.snapshot) Y.applyUpdate(doc, stored.snapshot);
    for (const u of stored.updates) Y.applyUpdate(doc, u);
    return doc;
  } finally {
    db.close();
  }
}

describe('server killed (SIGKILL) during a burst', () => {
  it('loses nothing that was ever shown as sent, and every client converges on all 1,000 messages', async () => {
    const port = await freePort();
    const serverUrl = `http://127.0.0.1:${port}`;
    child = await start(port);
    const users = await Promise.all(
      Array.from({ length: CLIENTS }, (_, i) => post(serverUrl, '/api/auth/dev-login', { name: `Writer ${i}` }) as Promise<{ token: string; user: { id: string } }>),
    );
    const [owner, ...others] = users;
    const { id: roomId } = (await post(serverUrl, '/api/rooms', { name: 'burst', type: 'group', members: others.map((u) => ({ user_id: u.user.id })) }, owner!.token)) as { id: string };

    const rooms: ChatRoom[] = [];
    for (const u of users) {
      const client = await openTestClient({ serverUrl, token: u.token, dbName: freshDbName('kill'), background: { enabled: false } });
      clients.push(client);
      rooms.push(await client.openRoom(roomId));
    }
    await Promise.all(rooms.map((r) => until((c) => r.on('connection', c), () => r.connectionState === 'online', 'connection')));

    // Every message any client ever showed as sent, recorded the moment its state says so.
    const everSent = new Set<string>();
    const own: string[][] = rooms.map(() => []);
    const recordSent = (): void => {
      rooms.forEach((room, i) => {
        for (const id of own[i]!) if (!everSent.has(id) && room.messageState(id)?.state === 'sent') everSent.add(id);
      });
      killWhenHalfway();
    };
    rooms.forEach((room) => room.on('states', recordSent));
    let sentAtKill = null as Set<string> | null;
    let onKilled: () => void = () => {};
    const killed = new Promise<void>((resolve) => (onKilled = resolve));
    const killWhenHalfway = (): void => {
      if (sentAtKill || everSent.size < KILL_AFTER_SENT || own.flat().length < KILL_AFTER_WRITTEN) return;
      sentAtKill = new Set(everSent);
      child!.child.kill('SIGKILL');
      void child!.exited.then(onKilled);
    };

    const bursts = rooms.map(async (room, i) => {
      for (let n = 0; n < PER_CLIENT; n += CHUNK) {
        const sends = Array.from({ length: CHUNK }, (_, k) => room.send({ content: `client ${i} message ${n + k}` }));
        const sent = await Promise.all(sends);
        for (const m of sent) own[i]!.push(m.id);
        recordSent();
        // Yield to the sockets between chunks, as an app's event loop would.
        await new Promise((resolve) => setImmediate(resolve));
      }
    });
    await killed;
    const writtenAtKill = own.flat().length;
    await Promise.all(bursts);
    console.log(`killed with ${sentAtKill?.size} of ${writtenAtKill} written messages sent`);
    if (!sentAtKill) throw new Error('unreachable: killed without a record');
    expect(sentAtKill.size).toBeGreaterThanOrEqual(KILL_AFTER_SENT);
    expect(sentAtKill.size).toBeLessThan(CLIENTS * PER_CLIENT);

    // Durability: the dead server's own storage holds everything that was ever shown as sent.
    const onDisk = storedDoc(roomId);
    const missing = [...sentAtKill].filter((id) => getMessage(onDisk, id) === null);
    expect(missing).toEqual([]);

    child = await start(port);
    const allIds = own.flat();
    expect(new Set(allIds).size).toBe(CLIENTS * PER_CLIENT);
    await Promise.all(
      rooms.map((room, i) =>
        until(
          (c) => {
            const offs = [room.on('change', c), room.on('states', c)];
            return () => offs.forEach((off) => off());
          },
          () => room.messages({ limit: 1 }).hasMore && messageCountOf(room) === CLIENTS * PER_CLIENT && own[i]!.every((id) => room.messageState(id)?.state === 'sent'),
          `client ${i} to converge`,
          60_000,
        ),
      ),
    );
    for (const room of rooms) expect(room.messages({ limit: 1000 }).messages.map((m) => m.id).sort()).toEqual([...allIds].sort());
    // Nothing shown as sent was lost, and nothing was applied twice: ids are unique in the room.
    for (const id of everSent) expect(rooms[0]!.getMessage(id)).not.toBeNull();
  }, 120_000);
});

const messageCountOf = (room: ChatRoom): number => messageCount(room.doc);
