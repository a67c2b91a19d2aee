import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { createParleyServer, type ParleyServer } from './ParleyServer.ts';
import { ConfigError } from './config.ts';
import { uuidv4 } from '../shared/ids.ts';
import { ApiErrorBodySchema } from '../shared/errors/errorCodes.ts';
import { createMessage } from '../shared/roomDoc/messageOps.ts';
import { lastMessage } from '../shared/roomDoc/queries.ts';
import { makeTempDir } from '../test/support/tempDir.ts';
import { RawSocket } from '../test/support/rawSocket.ts';
import { openProvider, synced, untilDoc } from '../test/support/serverHarness.ts';

/*
 * createParleyServer as a host app uses it: its own token check, its own HTTP server, other
 * routes and upgrade paths of its own next to Parley's.
 */

const ana = { id: uuidv4(), name: 'Ana' };
/** The host app's "sessions": opaque tokens it looks up itself. */
const sessions = new Map([['session-of-ana', ana]]);
const verifyToken = (token: string) => {
  const user = sessions.get(token);
  if (!user) throw new Error('unknown session');
  return user;
};

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function started(options: Parameters<typeof createParleyServer>[0]): ParleyServer {
  const tmp = makeTempDir();
  const parley = createParleyServer({ dataDir: tmp.dir, logLevel: 'silent', appDir: null, ...options });
  cleanups.push(() => tmp.remove(), () => parley.close());
  return parley;
}

describe('createParleyServer', () => {
  it('needs some way to verify tokens', () => {
    const tmp = makeTempDir();
    cleanups.push(() => tmp.remove());
    expect(() => createParleyServer({ dataDir: tmp.dir })).toThrow(ConfigError);
  });

  it("authenticates REST and sync with the host's verifyToken, attached to the host's own HTTP server", async () => {
    const parley = started({ verifyToken });
    const host = http.createServer((req, res) => {
      if (req.url === '/host/health') return void res.end('host ok');
      parley.handleRequest(req, res);
    });
    host.on('upgrade', (req, socket, head) => {
      if (!parley.handleUpgrade(req, socket, head)) socket.end('HTTP/1.1 418 Not Parley\r\nContent-Length: 0\r\n\r\n');
    });
    await new Promise<void>((resolve) => host.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => host.close(resolve)));
    const url = `http://127.0.0.1:${(host.address() as AddressInfo).port}`;

    expect(await (await fetch(`${url}/host/health`)).text()).toBe('host ok');
    const refused = await fetch(`${url}/api/rooms`, { headers: { authorization: 'Bearer forged' } });
    expect(refused.status).toBe(401);
    expect(ApiErrorBodySchema.parse(await refused.json()).error).toMatchObject({ code: 'unauthorized', message: 'token rejected: unknown session' });
    const created = await fetch(`${url}/api/rooms`, {
      method: 'POST',
      headers: { authorization: 'Bearer session-of-ana', 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'group', name: 'Hosted' }),
    });
    expect(created.status).toBe(201);
    const { id: roomId } = (await created.json()) as { id: string };

    const writer = openProvider(`${url.replace('http', 'ws')}/sync`, roomId, 'session-of-ana');
    const reader = openProvider(`${url.replace('http', 'ws')}/sync`, roomId, 'session-of-ana');
    cleanups.push(() => (writer.destroy(), reader.destroy(), writer.doc.destroy(), reader.doc.destroy()));
    await synced(writer);
    createMessage(writer.doc, { userId: ana.id, role: 'owner' }, { content: 'through the host' });
    await untilDoc(reader.doc, (doc: Y.Doc) => lastMessage(doc)?.content === 'through the host');

    const forged = await RawSocket.open(`${url.replace('http', 'ws')}/sync/${roomId}?token=forged`);
    expect((await forged.closed).code).toBe(4401);
    await expect(RawSocket.open(`${url.replace('http', 'ws')}/elsewhere`)).rejects.toThrow(/418/);
  });

  it('listens on its own port, and with dev login on takes both its own tokens and the host\'s', async () => {
    const parley = started({ verifyToken, devLogin: true });
    const { url } = await parley.listen(0, '127.0.0.1');
    expect(parley.url).toBe(url);
    const login = await fetch(`${url}/api/auth/dev-login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Ben' }) });
    const { token } = (await login.json()) as { token: string };
    for (const bearer of [token, 'session-of-ana']) {
      expect((await fetch(`${url}/api/rooms`, { headers: { authorization: `Bearer ${bearer}` } })).status).toBe(200);
    }
  });

  it('keeps acknowledged messages through a power loss by default (synchronous=FULL); NORMAL is an opt-in', () => {
    // SQLite reports synchronous as a number: 1 NORMAL, 2 FULL.
    expect(started({ verifyToken }).db.pragma('synchronous', { simple: true })).toBe(2);
    expect(started({ verifyToken, sqliteSynchronous: 'NORMAL' }).db.pragma('synchronous', { simple: true })).toBe(1);
  });
});
