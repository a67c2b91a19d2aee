import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../test/support/serverHarness.ts';
import { freshDbName, openTestClient, until } from '../test/support/clientHarness.ts';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t.dispose();
});

describe('smoke', () => {
  it('sends, and the other user receives', async () => {
    const ana = await t.login('Ana');
    const bob = await t.login('Bob');
    const roomId = await t.createRoom(ana, [bob]);
    const a = await openTestClient({ serverUrl: t.url, token: ana.token, dbName: freshDbName('a') });
    const b = await openTestClient({ serverUrl: t.url, token: bob.token, dbName: freshDbName('b') });
    const ra = await a.openRoom(roomId);
    const rb = await b.openRoom(roomId);
    const sent = await ra.send({ content: 'hello' });
    expect(ra.getMessage(sent.id)?.content).toBe('hello');
    await ra.whenSent(sent.id);
    expect(ra.messageState(sent.id)).toEqual({ state: 'sent' });
    await until((c) => rb.on('change', c), () => rb.getMessage(sent.id)?.sender_name === 'Ana', 'bob to receive it with its sender name');
    expect(rb.getMessage(sent.id)?.content).toBe('hello');
    await a.close();
    await b.close();
  });
});
