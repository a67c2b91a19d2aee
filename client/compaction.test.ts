import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatRoom } from './room/ChatRoom.ts';
import { startTestServer, type TestServer } from '../test/support/serverHarness.ts';
import { freshDbName, openTestClient, until } from '../test/support/clientHarness.ts';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t.dispose();
});

const expected = (room: ChatRoom) => room.messages({ limit: 1000 }).messages.map((m) => ({ id: m.id, content: m.content, deleted: m.is_deleted, reactions: m.reactions }));

describe('local log compaction', () => {
  it('loses nothing while reads and writes run during it, in this tab and in a second tab on the same database', async () => {
    const ana = await t.login('Ana');
    const bob = await t.login('Bob');
    const roomId = await t.createRoom(ana, [bob]);
    const dbName = freshDbName('compact');
    // Compact every 16 log entries: dozens of compactions during the run.
    const opts = { serverUrl: t.url, token: ana.token, dbName, compaction: { maxEntries: 16 } };
    const tab = await openTestClient(opts);
    const otherTab = await openTestClient(opts);
    const room = await tab.openRoom(roomId);
    const other = await otherTab.openRoom(roomId);
    const ids: string[] = [];

    for (let round = 0; round < 10; round++) {
      const sends = Array.from({ length: 20 }, (_, i) => room.send({ content: `round ${round} message ${i}` }));
      // Reads between writes and while their storing and compaction are under way.
      const page = room.messages({ limit: 50 });
      expect(page.messages.length).toBe(Math.min(50, ids.length + 20));
      const sent = await Promise.all(sends);
      ids.push(...sent.map((m) => m.id));
      await room.edit(sent[0]!.id, { content: `round ${round} edited` });
      await room.react(sent[1]!.id, '👍');
      await room.delete(sent[2]!.id);
      expect(room.messages({ limit: 1000 }).messages.map((m) => m.id)).toEqual(ids);
    }
    const want = expected(room);
    expect(want).toHaveLength(200);

    // The other tab follows through the shared database (BroadcastChannel + log reads),
    // compacted ranges included.
    await until((c) => other.on('change', c), () => JSON.stringify(expected(other)) === JSON.stringify(want), 'the other tab to catch up');

    const stats = await tab.store.logStats(roomId);
    expect(stats.entries).toBeLessThan(16 + 20);
    const log = await tab.store.loadRoom(roomId);
    expect(log.snapshot).not.toBeNull();

    await until((c) => room.on('states', c), () => ids.every((id) => room.messageState(id)?.state === 'sent'), 'everything to be sent');
    await tab.close();
    await otherTab.close();

    // A reload reads the snapshot plus the log: the same room, deleted text gone.
    const reloaded = await openTestClient(opts);
    const again = await reloaded.openRoom(roomId);
    expect(expected(again)).toEqual(want);
    expect(again.messages({ limit: 1000 }).messages.filter((m) => m.is_deleted)).toHaveLength(10);
    const snapshot = (await reloaded.store.loadRoom(roomId)).snapshot!;
    expect(new TextDecoder().decode(snapshot)).not.toContain('round 0 message 2');
    await reloaded.close();
  });
});
