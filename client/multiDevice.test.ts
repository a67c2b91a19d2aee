import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatRoom } from './room/ChatRoom.ts';
import type { ClientError } from './errors/ClientError.ts';
import { startTestServer, type TestServer } from '../test/support/serverHarness.ts';
import { freePort, freshDbName, openTestClient, until } from '../test/support/clientHarness.ts';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t.dispose();
});

const changes = (room: ChatRoom) => (check: () => void) => {
  const offs = [room.on('change', check), room.on('states', check)];
  return () => offs.forEach((off) => off());
};

describe('two devices of one user', () => {
  it('one offline: concurrent reads and reactions converge, the read position is the maximum, unread counts agree', async () => {
    const ana = await t.login('Ana');
    const bob = await t.login('Bob');
    const roomId = await t.createRoom(ana, [bob]);
    const laptopDb = freshDbName('laptop');
    const phoneDb = freshDbName('phone');
    const errors: ClientError[] = [];

    const bobClient = await openTestClient({ serverUrl: t.url, token: bob.token, dbName: freshDbName('bob') });
    const bobRoom = await bobClient.openRoom(roomId);
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) ids.push((await bobRoom.send({ content: `from Bob ${i}` })).id);
    await bobRoom.whenSent(ids[9]!);

    // The phone syncs once, then goes offline (its server is unreachable).
    const phoneOnline = await openTestClient({ serverUrl: t.url, token: ana.token, dbName: phoneDb });
    const phoneSynced = await phoneOnline.openRoom(roomId);
    await until(changes(phoneSynced), () => phoneSynced.getMessage(ids[9]!) !== null, 'the phone to sync');
    await phoneOnline.close();
    const deadUrl = `http://127.0.0.1:${await freePort()}`;
    const phoneOffline = await openTestClient({ serverUrl: deadUrl, token: ana.token, dbName: phoneDb });
    const phoneRoom = await phoneOffline.openRoom(roomId);

    const laptop = await openTestClient({ serverUrl: t.url, token: ana.token, dbName: laptopDb });
    laptop.on('error', (e) => errors.push(e));
    const laptopRoom = await laptop.openRoom(roomId);
    await until(changes(laptopRoom), () => laptopRoom.getMessage(ids[9]!) !== null, 'the laptop to sync');

    // Concurrently: the laptop reads further than the phone; both react, one reaction twice.
    expect(await laptopRoom.markRead(ids[7]!)).toEqual({ moved: true });
    await laptopRoom.react(ids[2]!, '👍');
    await laptopRoom.react(ids[4]!, '🎉');
    expect(await phoneRoom.markRead(ids[4]!)).toEqual({ moved: true });
    await phoneRoom.react(ids[2]!, '❤️');
    await phoneRoom.react(ids[4]!, '🎉');
    await phoneRoom.react(ids[3]!, '👍');
    await laptopRoom.whenSent(ids[7]!);
    expect(phoneRoom.readPosition()).toBe(ids[4]);
    await phoneOffline.close();

    // The phone comes back online.
    const phone = await openTestClient({ serverUrl: t.url, token: ana.token, dbName: phoneDb });
    phone.on('error', (e) => errors.push(e));
    const phoneBack = await phone.openRoom(roomId);
    const converged = (room: ChatRoom): boolean =>
      room.readPosition(ana.id) === ids[7] &&
      Object.keys(room.getMessage(ids[2]!)?.reactions ?? {}).length === 2 &&
      (room.getMessage(ids[3]!)?.reactions['👍']?.length ?? 0) === 1;
    await until(changes(phoneBack), () => converged(phoneBack), 'the phone to converge');
    await until(changes(laptopRoom), () => converged(laptopRoom), 'the laptop to converge');
    await until(changes(bobRoom), () => converged(bobRoom), 'Bob to see both devices');

    for (const room of [phoneBack, laptopRoom, bobRoom]) {
      expect(room.readPosition(ana.id)).toBe(ids[7]);
      expect(room.getMessage(ids[2]!)?.reactions).toEqual({ '👍': [ana.id], '❤️': [ana.id] });
      expect(room.getMessage(ids[4]!)?.reactions).toEqual({ '🎉': [ana.id] });
      expect(room.getMessage(ids[3]!)?.reactions).toEqual({ '👍': [ana.id] });
    }
    expect(phoneBack.unreadCount()).toBe(2);
    expect(laptopRoom.unreadCount()).toBe(2);
    // The phone's older read position never moves Ana's position back, on any replica.
    expect(await phoneBack.markRead(ids[5]!)).toEqual({ moved: false });

    // Sends and edits cross over too.
    const fromPhone = await phoneBack.send({ content: 'from the phone' });
    await phoneBack.edit(fromPhone.id, { content: 'from the phone, edited' });
    await until(changes(laptopRoom), () => laptopRoom.getMessage(fromPhone.id)?.content === 'from the phone, edited', 'the laptop to see the edit');
    await phoneBack.whenSent(fromPhone.id);
    expect(errors).toEqual([]);
    for (const c of [phone, laptop, bobClient]) await c.close();
  });
});
