import { afterAll, describe, expect, it } from 'vitest';
import type { ChatRoom } from './room/ChatRoom.ts';
import { startWithRoom } from '../test/support/serverHarness.ts';
import { freshDbName, openTestClient, stoppedServerWithRoom, until } from '../test/support/clientHarness.ts';
import { seedSegmentedRoom, withSegmentedHistory } from '../test/support/seededRooms.ts';
import { SEGMENT_MAX_MESSAGES } from '../shared/roomDoc/segments.ts';
import { KEPT_ON_DEVICE } from './room/RoomSegments.ts';
import { countingWebSocket } from '../test/support/countingWebSocket.ts';

const cleanup: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const fn of cleanup.reverse()) await fn();
});

/** Every message id of the room, oldest first, opening older segments as the pages reach them. */
async function everyId(room: ChatRoom): Promise<string[]> {
  const pages: string[][] = [];
  let beforeId: string | undefined;
  for (;;) {
    await room.loadHistory(beforeId === undefined ? {} : { beforeId });
    const page = room.messages({ limit: 1_000, ...(beforeId === undefined ? {} : { beforeId }) });
    pages.unshift(page.messages.map((m) => m.id));
    if (!page.hasMore || page.messages.length === 0) return pages.flat();
    beforeId = page.messages[0]?.id;
  }
}

const newestIds = (room: ChatRoom, limit: number): string[] => room.messages({ limit }).messages.map((m) => m.id);

/** A fresh server whose room holds `count` messages in segments, open on Ana's new device once its head has synced. */
async function segmentedRoomOnNewDevice(count: number, dbLabel: string) {
  const { t, ana, roomId } = await startWithRoom();
  cleanup.push(() => t.dispose());
  const ids = await withSegmentedHistory(t, roomId, ana.id, count);
  const client = await openTestClient({ serverUrl: t.url, token: ana.token, dbName: freshDbName(dbLabel) });
  cleanup.push(() => client.close());
  const room = await client.openRoom(roomId);
  await until((c) => room.on('change', c), () => room.segmented, 'the head');
  return { roomId, ids, client, room };
}

describe('a room of 300,000 messages in segments', () => {
  it('opens on the newest segment, pages back to the first message, and a change in the oldest segment reaches another client', async () => {
    const { t, ana, ben, roomId } = await startWithRoom();
    cleanup.push(() => t.dispose());
    const ids = await withSegmentedHistory(t, roomId, ana.id, 300_000 - 1);

    // A new device shows the newest 50 having synced the head and the open segment only.
    const counting = countingWebSocket();
    const client = await openTestClient({ serverUrl: t.url, token: ana.token, dbName: freshDbName('large-room'), WebSocket: counting.WebSocket });
    cleanup.push(() => client.close());
    const room = await client.openRoom(roomId);
    expect(room.segmented || newestIds(room, 50).length === 0).toBe(true);
    await until((c) => room.on('change', c), () => newestIds(room, 50).join() === ids.slice(-50).join(), 'the newest 50 messages');
    expect(room.segmented).toBe(true);
    // The open segment holds a segment's worth of messages but one, about 130 bytes each; the whole room is about 40 MB.
    expect(counting.received()).toBeLessThan(2 * 1024 * 1024);

    // Paging back, a segment at a time, to the very first message.
    const seen: string[][] = [];
    let beforeId: string | undefined;
    for (;;) {
      await room.loadHistory(beforeId === undefined ? {} : { beforeId });
      const page = room.messages({ limit: 1_000, ...(beforeId === undefined ? {} : { beforeId }) });
      seen.unshift(page.messages.map((m) => m.id));
      if (!page.hasMore) break;
      expect(page.messages.length).toBeGreaterThan(0);
      beforeId = page.messages[0]?.id;
    }
    expect(seen.flat()).toEqual(ids);
    // Segments older than the newest KEPT_ON_DEVICE are deleted from the device once out of memory; the newest stay.
    const stored = async (n: number): Promise<boolean> => {
      const log = await client.store.loadRoom(`${roomId}:${n}`);
      return log.snapshot !== null || log.updates.length > 0;
    };
    const segments = 300_000 / SEGMENT_MAX_MESSAGES;
    expect(await stored(10)).toBe(false);
    expect(await stored(segments - KEPT_ON_DEVICE + 1)).toBe(true);
    expect(await stored(segments - KEPT_ON_DEVICE - 1)).toBe(false);

    // Ana edits and reacts to the first message (in segment 0); Ben's device sees both.
    const first = ids[0] ?? '';
    await room.edit(first, { content: 'the very first, edited' });
    await room.react(first, '🎉');
    await room.whenSent(first);
    const benClient = await openTestClient({ serverUrl: t.url, token: ben.token, dbName: freshDbName('large-room-ben') });
    cleanup.push(() => benClient.close());
    const benRoom = await benClient.openRoom(roomId);
    await until((c) => benRoom.on('change', c), () => benRoom.segmented, "Ben's head");
    await benRoom.loadHistory({ beforeId: ids[1] });
    await until(
      (c) => benRoom.on('change', c),
      () => benRoom.getMessage(first)?.content === 'the very first, edited' && (benRoom.getMessage(first)?.reactions['🎉'] ?? []).includes(ana.id),
      'the edit and the reaction on the first message',
    );

    // The 300,000th message fills the open segment: the server seals it and opens the next, and
    // Ana's next message goes there; Ben sees both at the end of the room.
    const filling = await room.send({ content: 'number 300,000' });
    await until((c) => room.on('change', c), () => room.messages({ limit: 1 }).messages[0]?.id === filling.id, 'the 300,000th message');
    await room.whenSent(filling.id);
    const after = await (async () => {
      await until((c) => room.on('change', c), () => room.doc.getMap('segments').size >= segments + 1, 'the next segment to open');
      return room.send({ content: 'in the next segment' });
    })();
    await room.whenSent(after.id);
    await until((c) => benRoom.on('change', c), () => newestIds(benRoom, 2).join() === [filling.id, after.id].join(), "Ben's newest two messages");
  }, 120_000);
});

describe('membership rules in a segment', () => {
  it("the room's owner deletes another member's message in the open segment", async () => {
    const { t, ana, ben, roomId } = await startWithRoom();
    cleanup.push(() => t.dispose());
    await withSegmentedHistory(t, roomId, ana.id, SEGMENT_MAX_MESSAGES + 5);
    const open = async (token: string, label: string) => {
      const client = await openTestClient({ serverUrl: t.url, token, dbName: freshDbName(label) });
      cleanup.push(() => client.close());
      const room = await client.openRoom(roomId);
      await until((c) => room.on('change', c), () => room.segmented, `${label}'s head`);
      return room;
    };
    const benRoom = await open(ben.token, 'segment-role-ben');
    const sent = await benRoom.send({ content: 'to be removed by the owner' });
    await benRoom.whenSent(sent.id);
    const anaRoom = await open(ana.token, 'segment-role-ana');
    await until((c) => anaRoom.on('change', c), () => anaRoom.getMessage(sent.id) !== null, "Ben's message on Ana's device");
    // A fresh device learns its role with the member list (REST): the SDK checks it before writing.
    await until((c) => anaRoom.on('change', c), () => anaRoom.myRole === 'owner', "Ana's role on her new device");
    await anaRoom.delete(sent.id);
    await anaRoom.whenSent(sent.id);
    // Judged by the room's roles, not by the segment's document name: an owner may delete it.
    expect(anaRoom.refusal).toBeNull();
    await until((c) => benRoom.on('change', c), () => benRoom.getMessage(sent.id)?.is_deleted === true, "the deletion on Ben's device");
  }, 60_000);
});

describe('a segment sealed while two devices are offline', () => {
  it('takes both offline messages, moves them to the segment their ids belong to, and both devices see every message once, in order', async () => {
    const s = await stoppedServerWithRoom();
    cleanup.push(() => s.server.dispose());
    // Segment 0 sealed (full) and segment 1 open, ten short of full.
    seedSegmentedRoom(s.server, s.roomId, s.ana.id, 2 * SEGMENT_MAX_MESSAGES - 10);
    let server = await s.restart();
    const dbs = { ana: freshDbName('sealed-ana'), bob: freshDbName('sealed-bob') };
    const open = async (token: string, dbName: string) => {
      const client = await openTestClient({ serverUrl: s.serverUrl, token, dbName });
      const room = await client.openRoom(s.roomId);
      return { client, room };
    };

    // Ana's and Bob's devices know the room with segment 1 open, then go away.
    for (const [user, dbName] of [[s.ana, dbs.ana], [s.bob, dbs.bob]] as const) {
      const { client, room } = await open(user.token, dbName);
      await until((c) => room.on('change', c), () => room.segmented && newestIds(room, 50).length === 50, `${user.name}'s newest page`);
      await client.close();
    }

    // Ten messages from Ana's phone fill segment 1: the server seals it and opens segment 2.
    const c = await open(s.ana.token, freshDbName('sealed-ana-phone'));
    await until((check) => c.room.on('change', check), () => c.room.segmented, "the phone's head");
    const fromPhone: string[] = [];
    for (let i = 0; i < 10; i++) fromPhone.push((await c.room.send({ content: `from the phone ${i}` })).id);
    await until((check) => c.room.on('change', check), () => c.room.doc.getMap('segments').has('2'), 'segment 2 to open');
    await server.stop();

    await c.client.close();
    // Offline, Ana's laptop and Bob still think segment 1 is open and write into it, with ids newer than its seal.
    const ana = await open(s.ana.token, dbs.ana);
    const bob = await open(s.bob.token, dbs.bob);
    cleanup.push(() => ana.client.close(), () => bob.client.close());
    expect(ana.room.doc.getMap('segments').has('2')).toBe(false);
    const fromAna = (await ana.room.send({ content: 'Ana, offline' })).id;
    const fromBob = (await bob.room.send({ content: 'Bob, offline' })).id;

    server = await s.restart();
    cleanup.push(() => server.stop());
    await ana.room.whenSent(fromAna);
    await bob.room.whenSent(fromBob);
    for (const { room } of [ana, bob]) {
      await until((check) => room.on('change', check), () => [fromAna, fromBob].every((id) => newestIds(room, 20).includes(id)), 'both offline messages');
      const ids = await everyId(room);
      expect(ids).toHaveLength(2 * SEGMENT_MAX_MESSAGES - 10 + 10 + 2);
      expect(new Set(ids).size).toBe(ids.length);
      expect([...ids].sort()).toEqual(ids);
      expect(ids.slice(-12)).toEqual([...fromPhone, fromAna, fromBob].sort());
    }
    // Both were moved into segment 2: segment 1 holds neither any more.
    await until((check) => ana.room.on('change', check), () => ana.room.doc.getMap('segments').has('2'), "Ana's head to name segment 2");
  }, 90_000);
});

describe('paging back through a sealed segment', () => {
  it('opens the segment before it once the reader is in its older half, before a page reaches it', async () => {
    // Segments 0, 1 and 2 sealed, the open one holds 10: the device keeps segment 2 open.
    const M = SEGMENT_MAX_MESSAGES;
    const { roomId, ids, client, room } = await segmentedRoomOnNewDevice(3 * M + 10, 'prefetch');
    await room.loadHistory({ beforeId: ids[3 * M] ?? '' });
    const stored = async (n: number): Promise<number> => {
      const log = await client.store.loadRoom(`${roomId}:${n}`);
      return log.updates.length + (log.snapshot ? 1 : 0);
    };

    // A page in segment 2's newer half opens nothing; one in its older half opens segment 1.
    expect(room.messages({ beforeId: ids[2 * M + 4_000] ?? '', limit: 50 }).messages).toHaveLength(50);
    expect(await stored(1)).toBe(0);
    let [changes, states] = [0, 0];
    const offs = [room.on('change', () => changes++), room.on('states', () => states++)];
    expect(room.messages({ beforeId: ids[2 * M + 1_000] ?? '', limit: 50 }).messages.at(0)?.id).toBe(ids[2 * M + 950]);
    // Segment 1 syncs in the background, in pieces, reaching the device; a page reads it once whole.
    const segmentOnePage = (): string | undefined => room.messages({ beforeId: ids[2 * M] ?? '', limit: 50 }).messages.at(0)?.id;
    await until((c) => room.on('change', c), () => segmentOnePage() === ids[2 * M - 50], 'segment 1 whole');
    for (const off of offs) off();
    await expect.poll(() => stored(1)).toBeGreaterThan(0);
    expect(await stored(0)).toBe(0);
    // Its pieces (a sealed segment of SEGMENT_MAX_MESSAGES comes in dozens), and the delivery
    // states each one raises, are not changes of the room while it is short of its sealed count:
    // a page reads nothing of it until then. Its connection's states and its arrival whole are.
    expect(changes).toBeLessThanOrEqual(4);
    expect(states).toBeLessThanOrEqual(2);
  });
});

describe('paging forward again after paging back', () => {
  it('reads every message once, in order, opening the segments that left memory on the way', async () => {
    // Six sealed segments: paging back to the first leaves only a few of them in memory.
    const { ids, room } = await segmentedRoomOnNewDevice(6 * SEGMENT_MAX_MESSAGES + 10, 'forward');
    expect(await everyId(room)).toEqual(ids);

    const seen: string[] = [];
    let afterId = ids[0] ?? '';
    seen.push(afterId);
    for (;;) {
      const page = room.messages({ afterId, limit: 1_000 });
      seen.push(...page.messages.map((m) => m.id));
      afterId = page.messages.at(-1)?.id ?? afterId;
      if (!page.hasMore) break;
      // A short page: the next segment is opening; its change brings more.
      if (page.messages.length < 1_000) {
        const from = afterId;
        await until((c) => room.on('change', c), () => room.messages({ afterId: from, limit: 1 }).messages.length > 0, 'the next segment');
      }
    }
    expect(seen).toEqual(ids);
  });
});
