import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientError } from './errors/ClientError.ts';
import type { WebSocketConstructor } from './sync/WebSocketLike.ts';
import { startTestServer, type TestServer } from '../test/support/serverHarness.ts';
import { freePort, freshDbName, openTestClient, until, untilOnline } from '../test/support/clientHarness.ts';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t.dispose();
});

/** Ana and Bob's room, open on a new device of Ana's (database named after `dbLabel`). */
async function anaInRoomWithBob(dbLabel: string) {
  const ana = await t.login('Ana');
  const bob = await t.login('Bob');
  const roomId = await t.createRoom(ana, [bob]);
  const client = await openTestClient({ serverUrl: t.url, token: ana.token, dbName: freshDbName(dbLabel) });
  return { ana, client, room: await client.openRoom(roomId) };
}

describe('ChatClient', () => {
  it('refuses bad input with typed errors and writes nothing', async () => {
    const { client, room } = await anaInRoomWithBob('input');
    await expect(room.send({ content: 'x'.repeat(16_001) })).rejects.toMatchObject({ code: 'invalid_payload' });
    await expect(room.send({ content: 'hi', type: 'system' })).rejects.toMatchObject({ code: 'invalid_payload' });
    await expect(room.send({ content: 'hi', meta: JSON.parse('{"__proto__": {"x": 1}}') })).rejects.toMatchObject({ code: 'invalid_payload' });
    const message = await room.send({ content: 'ok', type: 'image', meta: { url: 'https://example.test/a.png' } });
    await expect(room.react(message.id, 'a|b')).rejects.toBeInstanceOf(ClientError);
    await expect(room.edit('01a20d34-d1a9-7000-822b-965cc5a08f4b', { content: 'x' })).rejects.toMatchObject({ code: 'not_found' });
    expect(() => room.messages({ limit: 0 })).toThrow(ClientError);
    expect(room.messages().messages.map((m) => m.content)).toEqual(['ok']);
    expect(room.getMessage(message.id)).toMatchObject({ message_type: 'image', extra_metadata: { url: 'https://example.test/a.png' } });
    await client.close();
  });

  it('reads a page again without converting it again until the room changes: the same messages, then an edit, a reaction and a member change show', async () => {
    const { ana, client, room } = await anaInRoomWithBob('page-cache');
    const first = await room.send({ content: 'one' });
    await room.send({ content: 'two' });
    const page = room.messages().messages;
    // Unchanged: the very same objects (what a scrolling list reads 200 of per page it adds).
    expect(room.messages().messages).toEqual(page);
    expect(room.messages().messages.every((m, i) => m === page[i])).toBe(true);
    await room.edit(first.id, { content: 'one, edited' });
    expect(room.messages().messages.map((m) => m.content)).toEqual(['one, edited', 'two']);
    await room.react(first.id, '👍');
    expect(room.messages().messages[0]?.reactions).toEqual({ '👍': [ana.id] });
    await until((c) => room.on('change', c), () => room.members().length > 0, 'the members');
    const before = room.messages().messages[0];
    // Names of senders come from the members: a new list is a change of every message.
    room.setMembers([...room.members()]);
    expect(room.messages().messages[0]).not.toBe(before);
    await client.close();
  });

  it('renews the token after a 4401 and connects', async () => {
    const ana = await t.login('Ana');
    const roomId = await t.createRoom(ana, []);
    const badSignature = ana.token.slice(0, -6) + (ana.token.endsWith('AAAAAA') ? 'BBBBBB' : 'AAAAAA');
    const renewals: boolean[] = [];
    const client = await openTestClient({
      serverUrl: t.url,
      dbName: freshDbName('renew'),
      background: { enabled: false },
      token: 'unused',
      getToken: ({ renew }) => {
        renewals.push(renew);
        return renew ? ana.token : badSignature;
      },
    });
    const room = await client.openRoom(roomId);
    await untilOnline(room);
    expect(renewals).toContain(true);
    const message = await room.send({ content: 'after renewal' });
    await room.whenSent(message.id);
    await client.close();
  });

  it('keeps unopened rooms in sync in the background (at most maxConnections sockets), with unread counts and last messages, readable offline after a restart', async () => {
    // Users of their own: the room list must hold exactly this test's rooms.
    const ana = await t.login('Ana in the background');
    const bob = await t.login('Bob in the background');
    const roomIds = await Promise.all(Array.from({ length: 5 }, () => t.createRoom(bob, [ana])));
    const bobClient = await openTestClient({ serverUrl: t.url, token: bob.token, dbName: freshDbName('bob'), background: { enabled: false } });
    for (const [i, roomId] of roomIds.entries()) {
      const room = await bobClient.openRoom(roomId);
      let last = '';
      for (let k = 0; k <= i; k++) last = (await room.send({ content: `room ${i} message ${k}` })).id;
      await room.whenSent(last);
    }
    await bobClient.close();

    // Every socket Ana's client opens, counted while open.
    let open = 0;
    let peak = 0;
    class CountingWebSocket extends WebSocket {
      constructor(url: string) {
        super(url);
        open += 1;
        peak = Math.max(peak, open);
        this.once('close', () => (open -= 1));
      }
    }
    const dbName = freshDbName('ana');
    const client = await openTestClient({
      serverUrl: t.url,
      token: ana.token,
      dbName,
      WebSocket: CountingWebSocket as unknown as WebSocketConstructor,
      background: { maxConnections: 2, intervalMs: 60_000 },
    });
    await client.refreshRooms();
    await client.syncInBackground();
    const summaries = new Map(client.rooms().map((s) => [s.room.id, s]));
    for (const [i, roomId] of roomIds.entries()) {
      expect(summaries.get(roomId)?.unreadCount).toBe(i + 1);
      expect(summaries.get(roomId)?.lastMessage?.content).toBe(`room ${i} message ${i}`);
    }
    expect(peak).toBeLessThanOrEqual(2);
    expect(peak).toBeGreaterThan(0);
    await client.close();

    // Offline restart: the cached list and every room's messages are there without the server.
    const offline = await openTestClient({ serverUrl: `http://127.0.0.1:${await freePort()}`, token: ana.token, dbName, background: { enabled: false } });
    expect(new Map(offline.rooms().map((s) => [s.room.id, s.unreadCount]))).toEqual(new Map(roomIds.map((id, i) => [id, i + 1])));
    const room = await offline.openRoom(roomIds[4]!);
    expect(room.messages().messages.map((m) => m.content)).toEqual([0, 1, 2, 3, 4].map((k) => `room 4 message ${k}`));
    expect(room.unreadCount()).toBe(5);
    await room.markRead(room.lastMessage()!.id);
    expect(room.unreadCount()).toBe(0);
    await offline.close();
  });

  it('shows who is typing (clearing itself), presence and status of members, and connection state', async () => {
    const ana = await t.login('Ana');
    const bob = await t.login('Bob');
    const roomId = await t.createRoom(ana, [bob]);
    const a = await openTestClient({ serverUrl: t.url, token: ana.token, dbName: freshDbName('a'), typingTimeoutMs: 200 });
    const b = await openTestClient({ serverUrl: t.url, token: bob.token, dbName: freshDbName('b') });
    const states: string[] = [];
    a.on('connection', (s) => states.push(s));
    const ra = await a.openRoom(roomId);
    const rb = await b.openRoom(roomId);
    await untilOnline(ra);
    await untilOnline(rb);
    expect(a.connectionState).toBe('online');
    expect(states).toContain('online');

    ra.startTyping();
    await until((c) => rb.on('typing', c), () => rb.typingUsers().some((u) => u.id === ana.id && u.name === 'Ana'), 'Bob to see Ana typing');
    // No further keystroke: it clears itself.
    await until((c) => rb.on('typing', c), () => rb.typingUsers().length === 0, 'the typing line to clear');

    await until((c) => rb.on('presence', c), () => rb.presence().some((p) => p.user_id === ana.id && p.is_online), 'Ana online');
    await a.setStatus('on a train');
    await until((c) => rb.on('presence', c), () => rb.presence().some((p) => p.user_id === ana.id && p.status === 'on a train'), 'the status to arrive');
    const [presence] = await b.presence([ana.id]);
    expect(presence).toMatchObject({ user_id: ana.id, is_online: true, status: 'on a train' });

    await a.close();
    await until((c) => rb.on('presence', c), () => rb.presence().some((p) => p.user_id === ana.id && !p.is_online && p.last_seen_at !== null), 'Ana offline');
    await b.close();
  });
});
