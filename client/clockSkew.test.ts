import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { ServerClock } from './api/ServerClock.ts';
import { createMessage } from '../shared/roomDoc/messageOps.ts';
import { CloseCode } from '../shared/protocol/closeCodes.ts';
import { connectProvider, closedByServer, startTestServer, synced, type TestServer } from '../test/support/serverHarness.ts';
import { freshDbName, openTestClient, until, untilOnline } from '../test/support/clientHarness.ts';

/*
 * Time rules (issue 14): the server refuses a message dated before its sender joined the room,
 * and the SDK mints ids on the server's clock as the REST answers' Date header tells it, so
 * devices whose clocks are wrong by minutes or hours still send, in the order they wrote.
 * In a file of its own: UUIDv7 ids stay monotonic within a process.
 */
let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t.dispose();
});

describe('ServerClock', () => {
  it('takes the offset from a Date header, and leaves a clock within its resolution alone', () => {
    let local = Date.UTC(2026, 11, 3, 12, 0, 0, 250);
    const clock = new ServerClock(() => local);
    // The server is three hours ahead: its header says 15:00:00, the round trip took 100 ms.
    clock.observe(new Date(Date.UTC(2026, 11, 3, 15, 0, 0)).toUTCString(), local - 100, local);
    expect(Math.abs(clock.offsetMs - 3 * 3_600_000)).toBeLessThan(1_000);
    local += 1_000;
    expect(Math.abs(clock.now() - Date.UTC(2026, 11, 3, 15, 0, 1, 250))).toBeLessThan(1_000);
    // Within a second: the same clock, no nudge.
    clock.observe(new Date(Date.UTC(2026, 11, 3, 12, 0, 1)).toUTCString(), local - 20, local);
    expect(clock.offsetMs).toBe(0);
    clock.observe('not a date', local, local);
    expect(clock.offsetMs).toBe(0);
  });
});

describe('time rules', () => {
  it('a stock client writing a message dated before its sender joined (1970) is refused with bad_message; one within the skew passes', async () => {
    const ana = await t.login('Ana');
    const roomId = await t.createRoom(ana, []);
    const provider = connectProvider(t, roomId, ana, new Y.Doc(), { parley: true });
    await synced(provider);
    const closed = closedByServer(provider);
    expect(createMessage(provider.doc, { userId: ana.id, role: 'owner' }, { content: 'backdated', now: 0 }).ok).toBe(true);
    expect((await closed).code).toBe(CloseCode.UpdateRefused);
    provider.destroy();
  });

  it('a device 10 minutes fast and one 3 hours slow both send, and their messages sort where they were written', async () => {
    const ana = await t.login('Ana');
    const ben = await t.login('Ben');
    const roomId = await t.createRoom(ana, [ben]);
    const fast = await openTestClient({ serverUrl: t.url, token: ana.token, dbName: freshDbName('fast'), deviceClock: () => Date.now() + 10 * 60_000 });
    const slow = await openTestClient({ serverUrl: t.url, token: ben.token, dbName: freshDbName('slow'), deviceClock: () => Date.now() - 3 * 3_600_000 });
    try {
      const [fastRoom, slowRoom] = await Promise.all([fast.openRoom(roomId), slow.openRoom(roomId)]);
      await Promise.all([untilOnline(fastRoom), untilOnline(slowRoom)]);
      const first = await fastRoom.send({ content: 'first, from the fast clock' });
      await fastRoom.whenSent(first.id);
      const second = await slowRoom.send({ content: 'second, from the slow clock' });
      await slowRoom.whenSent(second.id);
      const third = await fastRoom.send({ content: 'third, fast again' });
      await fastRoom.whenSent(third.id);
      // Everyone sees them in the order they were written, each dated within seconds of now.
      await until((check) => slowRoom.on('change', check), () => slowRoom.messages().messages.length === 3, 'the slow device to have all three');
      const listed = slowRoom.messages().messages;
      expect(listed.map((m) => m.content)).toEqual(['first, from the fast clock', 'second, from the slow clock', 'third, fast again']);
      for (const m of listed) expect(Math.abs(Date.parse(m.created_at) - Date.now())).toBeLessThan(60_000);
    } finally {
      await fast.close();
      await slow.close();
    }
  });
});
