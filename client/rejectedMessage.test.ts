import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClientError } from './errors/ClientError.ts';
import { uuidv7 } from '../shared/ids.ts';
import { startTestServer, type TestServer } from '../test/support/serverHarness.ts';
import { freshDbName, openTestClient, untilOnline } from '../test/support/clientHarness.ts';

/*
 * In a file of its own: message ids are UUIDv7 and stay monotonic within a process, so after a
 * clock ten minutes fast every later id of the process would be dated in the future too.
 */

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t.dispose();
});

describe('a message the server refuses', () => {
  it('marks a message the server refuses as rejected with its reason, and keeps it so across a restart', async () => {
    const ana = await t.login('Ana');
    const roomId = await t.createRoom(ana, []);
    const dbName = freshDbName('refused');
    // A device clock ten minutes fast: its message ids are dated beyond the server's 5-minute skew.
    const skewed = { serverUrl: t.url, token: ana.token, dbName, now: () => Date.now() + 10 * 60_000 };
    const client = await openTestClient(skewed);
    const errors: ClientError[] = [];
    client.on('error', (e) => errors.push(e));
    const room = await client.openRoom(roomId);
    await untilOnline(room);
    // Within the skew first: accepted. (Ids stay monotonic, so this one must come first.)
    const accepted = await room.send({ content: 'accepted first', id: uuidv7(Date.now()) });
    await room.whenSent(accepted.id);
    const message = await room.send({ content: 'from the future' });
    await expect(room.whenSent(message.id)).rejects.toMatchObject({ code: 'update_refused' });
    expect(room.messageState(message.id)).toMatchObject({ state: 'rejected', code: 'bad_message' });
    expect(room.getMessage(message.id)?.state).toMatchObject({ state: 'rejected' });
    expect(errors.map((e) => e.code)).toContain('update_refused');
    await client.close();

    const again = await openTestClient({ ...skewed, now: Date.now });
    const reopened = await again.openRoom(roomId);
    expect(reopened.messageState(message.id)).toMatchObject({ state: 'rejected', code: 'bad_message' });
    expect(reopened.refusal).toMatchObject({ code: 'bad_message' });

    // The app discards the refused changes: the room syncs again from the server.
    await again.discardLocalChanges(roomId);
    const fresh = await again.openRoom(roomId);
    expect(fresh.refusal).toBeNull();
    expect(fresh.getMessage(message.id)).toBeNull();
    await untilOnline(fresh);
    expect(fresh.getMessage(accepted.id)?.content).toBe('accepted first');
    await again.close();
  });

});
