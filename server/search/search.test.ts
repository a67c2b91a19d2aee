import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { searchDbFileOf } from './openSearchDatabase.ts';
import { CommandAnswerSchemas } from '../../shared/commands/commandAnswers.ts';
import { ApiErrorBodySchema } from '../../shared/errors/errorCodes.ts';
import { MessageSearchResultsSchema, type MessageSearchResult } from '../../shared/models/messageSearch.ts';
import { CommandClient } from '../../test/support/commandClient.ts';
import { startTestServer, type TestServer, type TestUser } from '../../test/support/serverHarness.ts';

/*
 * GET /api/search on a real server: messages sent through the JSON command endpoint, indexed in
 * the background (the tests poll until the index shows them, never sleep a fixed time).
 */
let t: TestServer;
const clients: CommandClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await t.dispose();
});

async function search(user: TestUser, params: Record<string, string>): Promise<{ status: number; body: unknown }> {
  return t.api(user, 'GET', `/api/search?${new URLSearchParams(params).toString()}`);
}

async function found(user: TestUser, q: string, extra: Record<string, string> = {}): Promise<MessageSearchResult[]> {
  const res = await search(user, { q, ...extra });
  expect(res.status).toBe(200);
  return MessageSearchResultsSchema.parse(res.body).results;
}

const contents = async (user: TestUser, q: string, extra: Record<string, string> = {}): Promise<string[]> => (await found(user, q, extra)).map((r) => r.snippet);

async function connect(user: TestUser): Promise<CommandClient> {
  const client = await CommandClient.connect(t, user);
  clients.push(client);
  return client;
}

async function send(client: CommandClient, roomId: string, content: string): Promise<string> {
  return CommandAnswerSchemas.send_message.parse((await client.request('send_message', { room_id: roomId, content })).data).message.id;
}

describe('GET /api/search', () => {
  it('finds messages by word, phrase and prefix, best match first', async () => {
    t = await startTestServer();
    const ana = await t.login('Ana');
    const ben = await t.login('Ben');
    const roomId = await t.createRoom(ana, [ben]);
    const c = await connect(ana);
    await send(c, roomId, 'the quarterly report is ready');
    await send(c, roomId, 'report report report: three times the report');
    await send(c, roomId, 'ready for lunch');
    await send(c, roomId, 'Crème brûlée for dessert');

    await expect.poll(() => contents(ben, 'report')).toHaveLength(2);
    // bm25: the message saying "report" four times ranks first.
    expect((await contents(ben, 'report'))[0]).toContain('three times');
    expect(await contents(ben, 'report ready')).toEqual(['the quarterly report is ready']);
    expect(await contents(ben, '"report is ready"')).toEqual(['the quarterly report is ready']);
    expect(await contents(ben, '"ready report"')).toEqual([]);
    expect(await contents(ben, 'quart*')).toEqual(['the quarterly report is ready']);
    expect(await contents(ben, 'quart')).toEqual([]);
    // Diacritics fold both ways.
    expect(await contents(ben, 'creme brulee')).toEqual(['Crème brûlée for dessert']);
    // FTS5 syntax in the text is only text: no error, no operator.
    expect(await contents(ben, 'report NOT ready')).toEqual([]);
    expect(await contents(ben, 'lunch OR')).toEqual([]);
    expect(await contents(ben, 'content:lunch')).toEqual([]);
    expect(await contents(ben, '(lunch')).toEqual(['ready for lunch']);
    const [hit] = await found(ben, 'lunch');
    expect(hit).toMatchObject({ room_id: roomId, sender_id: ana.id });
  });

  it('answers 400 invalid_payload for a query with nothing to search, and for bad parameters', async () => {
    t = await startTestServer();
    const ana = await t.login('Ana');
    const roomId = await t.createRoom(ana, []);
    const bad: Array<Record<string, string>> = [{ q: '*** "" -' }, { q: '' }, {}, { q: 'x'.repeat(201) }, { q: 'a', limit: '0' }, { q: 'a', limit: '51' }, { q: 'a', cursor: 'nope' }, { q: 'a', room_id: 'not-a-uuid' }];
    for (const params of bad) {
      const res = await search(ana, params);
      expect(res.status, JSON.stringify(params)).toBe(400);
      expect(ApiErrorBodySchema.parse(res.body).error.code).toBe('invalid_payload');
    }
    expect((await search(ana, { q: 'a', room_id: roomId })).status).toBe(200);
    expect((await t.api(null, 'GET', '/api/search?q=a')).status).toBe(401);
  });

  it('searches only rooms the caller is an active member of; room_id narrows, 403/404 as the room routes', async () => {
    t = await startTestServer();
    const ana = await t.login('Ana');
    const ben = await t.login('Ben');
    const cid = await t.login('Cid');
    const shared = await t.createRoom(ana, [ben]);
    const anasOwn = await t.createRoom(ana, []);
    const c = await connect(ana);
    await send(c, shared, 'pineapple in the shared room');
    await send(c, anasOwn, 'pineapple in a private room');

    await expect.poll(() => contents(ana, 'pineapple')).toHaveLength(2);
    expect(await contents(ben, 'pineapple')).toEqual(['pineapple in the shared room']);
    expect(await contents(cid, 'pineapple')).toEqual([]);
    expect(await contents(ana, 'pineapple', { room_id: anasOwn })).toEqual(['pineapple in a private room']);
    expect((await search(ben, { q: 'pineapple', room_id: anasOwn })).status).toBe(403);
    expect((await search(ben, { q: 'pineapple', room_id: '0193f5d2-0000-7000-8000-000000000000' })).status).toBe(404);

    // Removed: Ben finds nothing from the room any more, old messages nor new ones.
    expect((await t.api(ana, 'DELETE', `/api/rooms/${shared}/members/${ben.id}`)).status).toBeLessThan(300);
    await send(c, shared, 'pineapple sent after Ben left');
    await expect.poll(() => contents(ana, 'pineapple')).toHaveLength(3);
    expect(await contents(ben, 'pineapple')).toEqual([]);
    expect((await search(ben, { q: 'pineapple', room_id: shared })).status).toBe(403);
  });

  it('reflects edits and deletions once indexed', async () => {
    t = await startTestServer();
    const ana = await t.login('Ana');
    const roomId = await t.createRoom(ana, []);
    const c = await connect(ana);
    const edited = await send(c, roomId, 'meeting on tuesday');
    const deleted = await send(c, roomId, 'meeting password hunter2');
    await expect.poll(() => contents(ana, 'meeting')).toHaveLength(2);

    await c.request('edit_message', { room_id: roomId, message_id: edited, content: 'meeting on wednesday' });
    await c.request('delete_message', { room_id: roomId, message_id: deleted });
    await expect.poll(() => contents(ana, 'meeting')).toEqual(['meeting on wednesday']);
    expect(await contents(ana, 'tuesday')).toEqual([]);
    expect(await contents(ana, 'hunter2')).toEqual([]);
  });

  it('returns HTML in a message as plain text, with highlight ranges on the matched characters', async () => {
    t = await startTestServer();
    const ana = await t.login('Ana');
    const roomId = await t.createRoom(ana, []);
    const c = await connect(ana);
    const text = 'look <img src=x onerror=alert(1)> at this \uE000fake\uE001 onerror';
    await send(c, roomId, text);
    const [hit] = await expect.poll(() => found(ana, 'onerror')).toHaveLength(1).then(() => found(ana, 'onerror'));
    expect(hit!.snippet).toBe(text.replace(/[\uE000\uE001]/g, '\uFFFD'));
    expect(hit!.highlights).toHaveLength(2);
    for (const [start, end] of hit!.highlights) expect(hit!.snippet.slice(start, end)).toBe('onerror');
    // A phrase is highlighted over its words.
    const [phrase] = await found(ana, '"src x"');
    expect(phrase!.highlights.map(([s, e]) => phrase!.snippet.slice(s, e))).toEqual(['src=x']);
  });

  it('pages with limit and cursor, each result once', async () => {
    t = await startTestServer();
    const ana = await t.login('Ana');
    const roomId = await t.createRoom(ana, []);
    const c = await connect(ana);
    const sent = new Set<string>();
    for (let i = 0; i < 7; i++) sent.add(await send(c, roomId, `banana number ${i}`));
    await expect.poll(() => contents(ana, 'banana', { limit: '50' })).toHaveLength(7);

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await search(ana, { q: 'banana', limit: '3', ...(cursor ? { cursor } : {}) });
      const page = MessageSearchResultsSchema.parse(res.body);
      expect(page.results.length).toBeLessThanOrEqual(3);
      seen.push(...page.results.map((r) => r.message_id));
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen).toHaveLength(7);
    expect(new Set(seen)).toEqual(sent);
  });

  it('answers 503 search_unavailable while the index cannot be opened, and the rooms keep working', async () => {
    t = await startTestServer();
    const ana = await t.login('Ana');
    const roomId = await t.createRoom(ana, []);
    await t.stop();
    // A directory where the index's file should be: its thread fails as it opens it.
    const file = searchDbFileOf(t.config.dbFile);
    for (const suffix of ['', '-wal', '-shm']) fs.rmSync(`${file}${suffix}`, { force: true });
    fs.mkdirSync(file);
    await t.restart();
    const res = await search(ana, { q: 'anything' });
    expect(res.status).toBe(503);
    expect(ApiErrorBodySchema.parse(res.body).error.code).toBe('search_unavailable');
    const client = await connect(ana);
    await client.request('join_room', { room_id: roomId });
    expect(await send(client, roomId, 'still delivered')).toMatch(/^[0-9a-f-]{36}$/);
  });
});
