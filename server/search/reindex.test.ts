import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CommandAnswerSchemas } from '../../shared/commands/commandAnswers.ts';
import { MessageSearchResultsSchema } from '../../shared/models/messageSearch.ts';
import { openSearchDatabase, searchDbFileOf } from './openSearchDatabase.ts';
import { CommandClient } from '../../test/support/commandClient.ts';
import { startTestServer, type TestServer, type TestUser } from '../../test/support/serverHarness.ts';
import { runReindexCommand } from './reindexCommand.ts';
import { seedSingleDocumentRoom } from '../../test/support/seededRooms.ts';

/*
 * A database whose index is empty (one from before search, as far as the index knows): rooms are
 * indexed whole when they load, and `parley reindex` rebuilds rooms nobody loads.
 */
let t: TestServer;
let started = false;
afterEach(async () => {
  if (started) await t.dispose();
  started = false;
});

async function snippets(user: TestUser, q: string): Promise<string[]> {
  const res = await t.api(user, 'GET', `/api/search?q=${encodeURIComponent(q)}`);
  expect(res.status).toBe(200);
  return MessageSearchResultsSchema.parse(res.body).results.map((r) => r.snippet);
}

async function sendAll(user: TestUser, roomId: string, contents: readonly string[]): Promise<void> {
  const client = await CommandClient.connect(t, user);
  try {
    for (const content of contents) CommandAnswerSchemas.send_message.parse((await client.request('send_message', { room_id: roomId, content })).data);
  } finally {
    await client.close();
  }
}

/** Stops the server and empties the search index's file, as a database written before the index existed (or before it moved to its own file). */
async function stopAndForgetIndex(): Promise<void> {
  await t.stop();
  const db = openSearchDatabase(searchDbFileOf(path.join(t.dataDir, 'parley.db')));
  db.exec('DELETE FROM message_search; DELETE FROM search_rows; DELETE FROM search_indexed;');
  db.close();
}

describe('indexing an existing database', () => {
  it('indexes every stored room in the background after an upgrade, with no room loaded', async () => {
    t = await startTestServer();
    started = true;
    const ana = await t.login('Ana');
    const first = await t.createRoom(ana, []);
    const second = await t.createRoom(ana, []);
    await sendAll(ana, first, ['quince one', 'quince two']);
    await sendAll(ana, second, ['quince three']);
    await expect.poll(() => snippets(ana, 'quince')).toHaveLength(3);

    await stopAndForgetIndex();
    await t.restart();
    await t.server.searchBackfill.done;
    expect(t.server.searchBackfill.indexed).toEqual({ docs: 2, messages: 3 });
    expect(t.server.registry.get(first)).toBeUndefined();
    expect((await snippets(ana, 'quince')).sort()).toEqual(['quince one', 'quince three', 'quince two']);
    // Started again, nothing is indexed twice.
    await t.restart();
    await t.server.searchBackfill.done;
    expect(t.server.searchBackfill.indexed.docs).toBe(0);
  });

  it('reads a stored room of several ranges off the main thread and indexes every message of it', async () => {
    t = await startTestServer();
    started = true;
    const ana = await t.login('Ana');
    const roomId = await t.createRoom(ana, []);
    await t.stop();
    seedSingleDocumentRoom(t, roomId, ana.id, 450, (i) => `plum number${i}`);
    await t.restart();
    await t.server.searchBackfill.done;
    expect(t.server.searchBackfill.indexed.messages).toBeGreaterThanOrEqual(450);
    expect(t.server.registry.get(roomId)).toBeUndefined();
    for (const i of [0, 199, 200, 449]) expect(await snippets(ana, `number${i}`)).toEqual([`plum number${i}`]);
  });

  it('indexes a room whole when it loads, and parley reindex rebuilds rooms from storage', async () => {
    t = await startTestServer({ PARLEY_SEARCH_BACKFILL: '0' });
    started = true;
    const ana = await t.login('Ana');
    const first = await t.createRoom(ana, []);
    const second = await t.createRoom(ana, []);
    await sendAll(ana, first, ['apricot one', 'apricot two']);
    await sendAll(ana, second, ['apricot three']);
    await expect.poll(() => snippets(ana, 'apricot')).toHaveLength(3);

    await stopAndForgetIndex();
    await t.restart();
    expect(await snippets(ana, 'apricot')).toEqual([]);
    // Loading the first room (a command joins it) indexes it in the background.
    const client = await CommandClient.connect(t, ana);
    await client.request('join_room', { room_id: first });
    await expect.poll(() => snippets(ana, 'apricot')).toHaveLength(2);
    await client.close();

    await stopAndForgetIndex();
    const lines: string[] = [];
    const out = { log: (line: string) => lines.push(line), error: (line: string) => lines.push(line) };
    expect(runReindexCommand(['--data-dir', t.dataDir, '--room', second], {}, out)).toBe(0);
    expect(lines.at(-1)).toMatch(/^reindexed 1 documents, 1 messages/);
    await t.restart();
    expect(await snippets(ana, 'apricot')).toEqual(['apricot three']);

    await t.stop();
    lines.length = 0;
    expect(runReindexCommand(['--data-dir', t.dataDir], {}, out)).toBe(0);
    expect(lines.at(-1)).toMatch(/^reindexed \d+ documents, 3 messages/);
    await t.restart();
    expect((await snippets(ana, 'apricot')).sort()).toEqual(['apricot one', 'apricot three', 'apricot two']);
  });

  it('refuses bad usage with exit code 2', () => {
    const errors: string[] = [];
    const out = { log: () => {}, error: (line: string) => errors.push(line) };
    expect(runReindexCommand(['--room', 'nope'], {}, out)).toBe(2);
    expect(runReindexCommand(['--bogus'], {}, out)).toBe(2);
    expect(runReindexCommand(['--data-dir', '/nonexistent/parley-test'], {}, out)).toBe(2);
    expect(errors).toHaveLength(3);
  });
});
