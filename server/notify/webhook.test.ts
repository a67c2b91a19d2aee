import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as Y from 'yjs';
import { ParleyNotificationSchema, WEBHOOK_HEADERS, type ParleyNotification } from '../../shared/models/notification.ts';
import { createMessage } from '../../shared/roomDoc/messageOps.ts';
import { loadConfig } from '../config.ts';
import { OutboxRepo } from '../storage/OutboxRepo.ts';
import { serverLogs } from '../../test/support/logCapture.ts';
import { acknowledged, connectProvider, startTestServer, synced, type TestServer, type TestUser } from '../../test/support/serverHarness.ts';
import { freshDbName, openTestClient, until } from '../../test/support/clientHarness.ts';
import type { ChatClient } from '../../client/ChatClient.ts';
import { verifyWebhook } from './webhookSignature.ts';

vi.mock('../log.ts', () => import('../../test/support/logCapture.ts').then((m) => m.logModule));

const SECRET = 'webhook-secret-for-the-tests';

interface Received {
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

/** The host app's webhook endpoint: a real HTTP server on port 0 that records each request and answers as told ('hold': never). */
class Receiver {
  readonly requests: Received[] = [];
  answer: (request: Received, index: number) => number | 'hold' = () => 200;
  readonly #server: http.Server;
  #waiters: Array<{ n: number; resolve: () => void }> = [];

  private constructor(server: http.Server) {
    this.#server = server;
  }

  static async start(): Promise<Receiver> {
    const receiver: Receiver = new Receiver(
      http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (chunk: Buffer) => chunks.push(chunk));
        req.on('end', () => {
          const request = { headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
          const index = receiver.requests.push(request) - 1;
          const answer = receiver.answer(request, index);
          if (answer !== 'hold') res.writeHead(answer).end();
          receiver.#waiters = receiver.#waiters.filter((w) => {
            if (receiver.requests.length < w.n) return true;
            w.resolve();
            return false;
          });
        });
      }),
    );
    await new Promise<void>((resolve) => receiver.#server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/hooks/parley`;
  }

  /** The n-th request (1-based), once it arrived. */
  async nth(n: number): Promise<Received> {
    if (this.requests.length < n) await new Promise<void>((resolve) => this.#waiters.push({ n, resolve }));
    return this.requests[n - 1] as Received;
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

/** The body as the schema reads it, after checking the signature as a receiver must. */
function verified(request: Received): ParleyNotification {
  const header = (name: string): string | undefined => {
    const value = request.headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  expect(request.headers['content-type']).toBe('application/json');
  expect(verifyWebhook(SECRET, { signature: header(WEBHOOK_HEADERS.signature), timestamp: header(WEBHOOK_HEADERS.timestamp), body: request.body })).toBe(true);
  const notification = ParleyNotificationSchema.parse(JSON.parse(request.body));
  expect(header(WEBHOOK_HEADERS.delivery)).toBe(notification.id);
  return notification;
}

let t: TestServer | undefined;
let receiver: Receiver | undefined;
const clients: ChatClient[] = [];
const docsToClose: Array<{ destroy(): void }> = [];

afterEach(async () => {
  for (const d of docsToClose.splice(0)) d.destroy();
  for (const c of clients.splice(0)) await c.close();
  await t?.dispose();
  await receiver?.close();
  t = undefined;
  receiver = undefined;
});

/** A server calling the receiver, with retries fast enough for a test (40 ms, doubling to 200 ms, 4 attempts). */
async function serverWithWebhook(): Promise<{ t: TestServer; receiver: Receiver }> {
  receiver = await Receiver.start();
  const url = receiver.url;
  t = await startTestServer(
    { PARLEY_WEBHOOK_URL: url, PARLEY_WEBHOOK_SECRET: SECRET },
    { webhook: { url, secret: SECRET, retry: { baseMs: 40, maxMs: 200, maxAttempts: 4 } } },
  );
  return { t, receiver };
}

/** Ana writes a message through a stock y-websocket provider, as any Yjs client can; resolves once the server committed it. */
async function write(server: TestServer, roomId: string, author: TestUser, content: string, mentionedUsers?: readonly string[]): Promise<string> {
  const provider = connectProvider(server, roomId, author, new Y.Doc(), { parley: true });
  docsToClose.push(provider);
  await synced(provider);
  const written = createMessage(provider.doc, { userId: author.id, role: 'member' }, { content, ...(mentionedUsers ? { mentionedUsers } : {}) });
  if (!written.ok) throw new Error(`createMessage failed: ${written.message}`);
  await acknowledged(provider);
  return written.id;
}

const deliveredLog = (delivery: string) => serverLogs.next((line) => line.msg === 'webhook: delivered' && line['delivery'] === delivery);
const outboxSize = (server: TestServer): number => new OutboxRepo(server.server.db).size();

describe('the notification webhook', () => {
  it('is called, signed, for a mention of a member with no connected device, and for nobody else', async () => {
    const { t, receiver } = await serverWithWebhook();
    const [ana, ben, cleo] = [await t.login('Ana'), await t.login('Ben'), await t.login('Cleo')];
    const roomId = await t.createRoom(ana, [ben, cleo]);
    expect((await t.api(ana, 'PATCH', `/api/rooms/${roomId}`, { name: 'Planning' })).status).toBe(200);

    const messageId = await write(t, roomId, ana, 'Ben, can you take the release notes?', [ben.id]);
    const notification = verified(await receiver.nth(1));
    expect(notification).toMatchObject({
      type: 'mention',
      user_id: ben.id,
      room: { id: roomId, name: 'Planning', type: 'group' },
      message: { id: messageId, room_id: roomId, sender_id: ana.id, sender_name: 'Ana', content: 'Ben, can you take the release notes?', mentioned_users: [ben.id] },
    });
    expect(receiver.requests[0]?.headers[WEBHOOK_HEADERS.attempt]).toBe('1');

    // Delivered and gone from the outbox; Cleo (not mentioned) and Ana (the sender) were never called for.
    await deliveredLog(notification.id);
    expect(outboxSize(t)).toBe(0);
    expect(receiver.requests).toHaveLength(1);
  });

  it('is called for any message in a direct room whose other member is away', async () => {
    const { t, receiver } = await serverWithWebhook();
    const [ana, ben] = [await t.login('Ana'), await t.login('Ben')];
    const direct = await t.createRoom(ana, [ben], 'direct');
    await write(t, direct, ana, 'lunch?\nat noon');
    expect(verified(await receiver.nth(1))).toMatchObject({ type: 'direct_message', user_id: ben.id, room: { id: direct, name: null, type: 'direct' }, message: { content: 'lunch?\nat noon', sender_name: 'Ana' } });
  });

  it('skips a recipient with a connected device (their feed carries it) and one who muted the room', async () => {
    const { t, receiver } = await serverWithWebhook();
    const [ana, ben, cleo, dan] = [await t.login('Ana'), await t.login('Ben'), await t.login('Cleo'), await t.login('Dan')];
    const roomId = await t.createRoom(ana, [ben, cleo, dan]);
    // Cleo mutes the room for herself.
    const muted = await t.api(cleo, 'PUT', `/api/rooms/${roomId}/mute`, { muted: true });
    expect(muted).toMatchObject({ status: 200, body: { id: roomId, muted: true } });
    // Ben has the SDK open: his device is connected and his feed is live.
    const benClient = await openTestClient({ serverUrl: t.url, token: ben.token, dbName: freshDbName('notify-ben') });
    clients.push(benClient);
    await until((check) => benClient.on('connection', check), () => benClient.connectionState === 'online', "Ben's feed");
    const heard: ParleyNotification[] = [];
    benClient.on('notification', (n) => heard.push(n));

    const messageId = await write(t, roomId, ana, 'Standup moved to 10', [ben.id, cleo.id, dan.id]);
    // Dan, away and listening, is the only webhook call.
    const notification = verified(await receiver.nth(1));
    expect(notification).toMatchObject({ type: 'mention', user_id: dan.id, message: { id: messageId } });
    await deliveredLog(notification.id);
    expect(outboxSize(t)).toBe(0);
    expect(receiver.requests).toHaveLength(1);
    // Ben heard it on his device, as the same kind of object.
    await until((check) => benClient.on('notification', check), () => heard.length > 0, "Ben's notification");
    expect(heard).toEqual([expect.objectContaining({ type: 'mention', user_id: ben.id, message: expect.objectContaining({ id: messageId, content: 'Standup moved to 10' }) })]);
  });

  it('retries after a 500 with the same delivery id, a fresh signature and the next attempt number', async () => {
    const { t, receiver } = await serverWithWebhook();
    receiver.answer = (_request, index) => (index === 0 ? 500 : 200);
    const [ana, ben] = [await t.login('Ana'), await t.login('Ben')];
    const direct = await t.createRoom(ana, [ben], 'direct');
    await write(t, direct, ana, 'are you there?');
    const first = verified(await receiver.nth(1));
    const second = verified(await receiver.nth(2));
    expect(second.id).toBe(first.id);
    expect(second).toEqual(first);
    expect([receiver.requests[0]?.headers[WEBHOOK_HEADERS.attempt], receiver.requests[1]?.headers[WEBHOOK_HEADERS.attempt]]).toEqual(['1', '2']);
    await deliveredLog(first.id);
    expect(outboxSize(t)).toBe(0);
  });

  it('gives up at once on a 4xx other than 408 and 429', async () => {
    const { t, receiver } = await serverWithWebhook();
    receiver.answer = () => 410;
    const [ana, ben] = [await t.login('Ana'), await t.login('Ben')];
    const direct = await t.createRoom(ana, [ben], 'direct');
    await write(t, direct, ana, 'hello?');
    const notification = verified(await receiver.nth(1));
    const gaveUp = await serverLogs.next((line) => line.msg === 'webhook: delivery given up' && line['delivery'] === notification.id);
    expect(gaveUp['reason']).toBe('HTTP 410');
    expect(outboxSize(t)).toBe(0);
    expect(receiver.requests).toHaveLength(1);
  });

  it('keeps a delivery through a restart: the next server sends it with the same id and attempt count', async () => {
    const { t, receiver } = await serverWithWebhook();
    // The first attempt fails, the second hangs until the server stops under it.
    receiver.answer = (_request, index) => (index === 0 ? 500 : 'hold');
    const [ana, ben] = [await t.login('Ana'), await t.login('Ben')];
    const direct = await t.createRoom(ana, [ben], 'direct');
    await write(t, direct, ana, 'ping before the restart');
    const first = verified(await receiver.nth(1));
    await receiver.nth(2);
    for (const d of docsToClose.splice(0)) d.destroy();
    await t.stop();

    receiver.answer = () => 200;
    await t.restart();
    const after = verified(await receiver.nth(3));
    expect(after).toEqual(first);
    // The attempt cut short by the shutdown is made again, not counted twice.
    expect(receiver.requests.map((r) => r.headers[WEBHOOK_HEADERS.attempt])).toEqual(['1', '2', '2']);
    await deliveredLog(first.id);
    expect(outboxSize(t)).toBe(0);
  });
});

describe('webhook configuration', () => {
  const env = { PARLEY_DEV_LOGIN: '1' };
  it('is off without PARLEY_WEBHOOK_URL, and a URL needs a secret of 16 characters or more', () => {
    expect(loadConfig(env, []).webhook).toBeNull();
    expect(loadConfig({ ...env, PARLEY_WEBHOOK_URL: 'https://example.com/hook', PARLEY_WEBHOOK_SECRET: SECRET }, []).webhook).toEqual({ url: 'https://example.com/hook', secret: SECRET });
    expect(() => loadConfig({ ...env, PARLEY_WEBHOOK_URL: 'https://example.com/hook' }, [])).toThrow(/PARLEY_WEBHOOK_SECRET is required/);
    expect(() => loadConfig({ ...env, PARLEY_WEBHOOK_URL: 'https://example.com/hook', PARLEY_WEBHOOK_SECRET: 'short' }, [])).toThrow(/PARLEY_WEBHOOK_SECRET/);
    expect(() => loadConfig({ ...env, PARLEY_WEBHOOK_URL: 'ftp://example.com/hook', PARLEY_WEBHOOK_SECRET: SECRET }, [])).toThrow(/PARLEY_WEBHOOK_URL/);
  });
});
