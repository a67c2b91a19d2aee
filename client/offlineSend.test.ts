import { afterAll, describe, expect, it } from 'vitest';
import type { ChatClient } from './ChatClient.ts';
import { allSent, freshDbName, openTestClient, stoppedServerWithRoom, until } from '../test/support/clientHarness.ts';

const cleanup: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const fn of cleanup.reverse()) await fn();
});

describe('offline send', () => {
  it('sends 20 messages, an edit and a reaction with the server down; after a restart they are pending; once the server starts they are sent, and the other user gets each exactly once', async () => {
    const { server: first, serverUrl, ana, bob, roomId, restart } = await stoppedServerWithRoom();
    cleanup.push(() => first.dispose());
    const dbName = freshDbName('offline');
    const offline = await openTestClient({ serverUrl, token: ana.token, dbName });
    const room = await offline.openRoom(roomId);
    expect(offline.connectionState).not.toBe('online');
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) ids.push((await room.send({ content: `offline ${i}` })).id);
    await room.edit(ids[3]!, { content: 'offline 3, edited' });
    await room.react(ids[7]!, '👍');
    expect(ids.map((id) => room.messageState(id)?.state)).toEqual(Array(20).fill('pending'));
    const clientId = offline.clientId;
    await offline.close();

    // The app restarts, still offline: everything is there, still pending.
    const restarted = await openTestClient({ serverUrl, token: ana.token, dbName });
    cleanup.push(() => restarted.close());
    expect(restarted.clientId).toBe(clientId);
    const again = await restarted.openRoom(roomId);
    const page = again.messages({ limit: 50 });
    expect(page.messages.map((m) => m.id)).toEqual(ids);
    expect(page.messages.map((m) => m.state.state)).toEqual(Array(20).fill('pending'));
    expect(again.getMessage(ids[3]!)).toMatchObject({ content: 'offline 3, edited', is_edited: true });
    expect(again.getMessage(ids[7]!)?.reactions).toEqual({ '👍': [ana.id] });

    // The server starts (same port, same data): the client reconnects on its own.
    const second = await restart();
    cleanup.push(() => second.dispose());
    await until((c) => again.on('states', c), () => allSent(again, ids), 'every offline message to be sent');
    expect(again.getMessage(ids[7]!)?.state).toEqual({ state: 'sent' });

    const bobClient: ChatClient = await openTestClient({ serverUrl, token: bob.token, dbName: freshDbName('bob') });
    cleanup.push(() => bobClient.close());
    const bobRoom = await bobClient.openRoom(roomId);
    await until((c) => bobRoom.on('change', c), () => bobRoom.messages({ limit: 100 }).messages.length >= 20, "Bob's copy to hold the 20 messages");
    const seen = bobRoom.messages({ limit: 100 }).messages;
    expect(seen.map((m) => m.id)).toEqual(ids);
    expect(seen.map((m) => m.content)).toEqual(ids.map((_, i) => (i === 3 ? 'offline 3, edited' : `offline ${i}`)));
    expect(seen[7]?.reactions).toEqual({ '👍': [ana.id] });
    expect(seen.every((m) => m.sender_id === ana.id)).toBe(true);
  });
});
