import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatClient } from './ChatClient.ts';
import { startTestServer, type TestServer } from '../test/support/serverHarness.ts';
import { freshDbName, openTestClient, until } from '../test/support/clientHarness.ts';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t.dispose();
});

const mutedIn = (client: ChatClient, roomId: string): boolean | undefined => client.rooms().find((s) => s.room.id === roomId)?.muted;
const untilMuted = (client: ChatClient, roomId: string, muted: boolean, what: string): Promise<void> =>
  until((check) => client.on('rooms', check), () => mutedIn(client, roomId) === muted, what);

describe('muting a room', () => {
  it('follows the user to every device: live on the ones online, on resume for one that was away', async () => {
    const ana = await t.login('Ana');
    const ben = await t.login('Ben');
    const roomId = await t.createRoom(ana, [ben]);
    const laptop = await openTestClient({ serverUrl: t.url, token: ben.token, dbName: freshDbName('mute-laptop') });
    const phoneDb = freshDbName('mute-phone');
    let phone = await openTestClient({ serverUrl: t.url, token: ben.token, dbName: phoneDb });
    await untilMuted(laptop, roomId, false, 'the laptop to list the room');
    await untilMuted(phone, roomId, false, 'the phone to list the room');

    // Muted on the laptop: its own list at once, the phone through the user feed.
    await laptop.setRoomMuted(roomId, true);
    expect(mutedIn(laptop, roomId)).toBe(true);
    await untilMuted(phone, roomId, true, 'the phone to hear of the mute');

    // The phone is away while the laptop unmutes; it catches up when it comes back, from its cursor.
    await phone.close();
    await laptop.setRoomMuted(roomId, false);
    phone = await openTestClient({ serverUrl: t.url, token: ben.token, dbName: phoneDb });
    // It starts from its stored list (still muted), then resumes its feed and fetches the list.
    await untilMuted(phone, roomId, false, 'the phone to catch up on the unmute');
    // Ana's own list never showed Ben's setting.
    const anaClient = await openTestClient({ serverUrl: t.url, token: ana.token, dbName: freshDbName('mute-ana') });
    await until((check) => anaClient.on('rooms', check), () => mutedIn(anaClient, roomId) !== undefined, "Ana's list");
    expect(mutedIn(anaClient, roomId)).toBe(false);
    await Promise.all([laptop.close(), phone.close(), anaClient.close()]);
  });
});
