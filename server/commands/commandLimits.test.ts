import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { WebSocket } from 'ws';
import { RoomEventSchemas } from '../../shared/commands/roomEvent.ts';
import { CommandErrorDataSchema } from '../../shared/commands/commandErrorData.ts';
import { CloseCode } from '../../shared/protocol/closeCodes.ts';
import { closedByServer, connectProvider, startWithRoom, synced, type TwoMemberRoom } from '../../test/support/serverHarness.ts';
import { CommandClient, commandsUrl } from '../../test/support/commandClient.ts';

let s: TwoMemberRoom;
afterEach(() => s.t.dispose());

describe('command endpoint limits and access', () => {
  it('answers rate_limited past the burst and keeps the connection', async () => {
    s = await startWithRoom({ PARLEY_RATE_BURST: '3', PARLEY_RATE_PER_SEC: '0.01' });
    const c = await CommandClient.connect(s.t, s.ana);
    const answers = await Promise.all(Array.from({ length: 3 }, () => c.request('fetch_history', { room_id: s.roomId })));
    expect(answers.every((a) => a.success)).toBe(true);
    const limited = await c.sendRaw(JSON.stringify({ command: 'fetch_history', data: { room_id: s.roomId } }));
    expect(limited).toMatchObject({ type: 'error', success: false, error: 'rate_limited' });
    expect(CommandErrorDataSchema.parse(limited.data).retry_after_ms).toBeGreaterThan(0);
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
    await c.close();
  });

  it('refuses a bad token with 4401', async () => {
    s = await startWithRoom();
    const c = await CommandClient.open(commandsUrl(s.t, 'not-a-token'));
    expect((await c.closed).code).toBe(CloseCode.Unauthorized);
  });

  it('counts command and sync connections against one per-user cap', async () => {
    s = await startWithRoom({ PARLEY_MAX_CONNECTIONS_PER_USER: '2' });
    const provider = connectProvider(s.t, s.roomId, s.ana, new Y.Doc());
    await synced(provider);
    const first = await CommandClient.connect(s.t, s.ana);
    expect((await first.request('fetch_history', { room_id: s.roomId })).success).toBe(true);
    const second = await CommandClient.connect(s.t, s.ana);
    expect((await second.closed).code).toBe(CloseCode.TooManyConnections);
    // The command connection counts against the sync side too.
    const extra = connectProvider(s.t, s.roomId, s.ana, new Y.Doc());
    expect((await closedByServer(extra)).code).toBe(CloseCode.TooManyConnections);
    extra.destroy();
    provider.destroy();
    await first.close();
  });

  it('a removed member is unsubscribed with an event, and the connection stays', async () => {
    s = await startWithRoom();
    const ben = await CommandClient.connect(s.t, s.ben);
    expect((await ben.request('join_room', { room_id: s.roomId })).success).toBe(true);
    const removed = await s.t.api(s.ana, 'DELETE', `/api/rooms/${s.roomId}/members/${s.ben.id}`);
    expect(removed.status).toBeLessThan(300);
    const event = RoomEventSchemas.unsubscribed.parse((await ben.event('unsubscribed')).data);
    expect(event).toMatchObject({ room_id: s.roomId, code: 'not_a_member' });
    const ana = await CommandClient.connect(s.t, s.ana);
    expect((await ana.request('send_message', { room_id: s.roomId, content: 'ben is gone' })).success).toBe(true);
    // Still open and answering; it got no event for Ana's message (that event would precede this answer).
    expect(await ben.request('fetch_history', { room_id: s.roomId })).toMatchObject({ success: false, error: 'not_a_member' });
    expect(await ben.request('leave_room', { room_id: s.roomId })).toMatchObject({ success: false, error: 'not_joined' });
    expect(ben.pending()).toEqual([]);
    await Promise.all([ben.close(), ana.close()]);
  });

  it('a joined connection keeps the room loaded; leaving lets it unload', async () => {
    s = await startWithRoom({ PARLEY_ROOM_IDLE_MS: '0' });
    const c = await CommandClient.connect(s.t, s.ana);
    expect((await c.request('join_room', { room_id: s.roomId })).success).toBe(true);
    const room = s.t.server.registry.get(s.roomId);
    expect(room?.inUse).toBe(true);
    const unloaded = new Promise<string>((resolve) => s.t.server.registry.onUnloaded(resolve));
    expect((await c.request('leave_room', { room_id: s.roomId })).success).toBe(true);
    expect(await unloaded).toBe(s.roomId);
    expect(room?.closed).toBe(true);
    await c.close();
  });
});

describe('storage failure', () => {
  it('a change that cannot be committed is answered `internal`, never announced, and joined connections are told to rejoin', async () => {
    s = await startWithRoom();
    const ana = await CommandClient.connect(s.t, s.ana);
    const ben = await CommandClient.connect(s.t, s.ben);
    expect((await ben.request('join_room', { room_id: s.roomId })).success).toBe(true);
    // A real SQLITE_FULL: cap the file at its current size.
    const pages = s.t.server.db.pragma('page_count', { simple: true }) as number;
    s.t.server.db.pragma(`max_page_count = ${pages}`);
    const answers = await Promise.all(Array.from({ length: 20 }, () => ana.request('send_message', { room_id: s.roomId, content: 'x'.repeat(15_000) })));
    expect(answers.every((a) => a.error === 'internal')).toBe(true);
    const event = RoomEventSchemas.unsubscribed.parse((await ben.event('unsubscribed')).data);
    expect(event.code).toBe('internal');
    expect(ben.pending()).toEqual([]);

    s.t.server.db.pragma('max_page_count = 1073741823');
    const rejoined = await ben.request('join_room', { room_id: s.roomId });
    expect(rejoined.success).toBe(true);
    expect(rejoined.data.messages).toEqual([]);
    expect((await ana.request('send_message', { room_id: s.roomId, content: 'stored' })).success).toBe(true);
    await ben.event('message_created');
    await Promise.all([ana.close(), ben.close()]);
  });
});

describe('rules that change while connected', () => {
  it('takes the role from the directory at each command: a member promoted to admin may delete others’ messages', async () => {
    s = await startWithRoom();
    const ana = await CommandClient.connect(s.t, s.ana);
    const ben = await CommandClient.connect(s.t, s.ben);
    const sent = await ana.request('send_message', { room_id: s.roomId, content: 'moderate me' });
    const id = (sent.data.message as { id: string }).id;
    expect(await ben.request('delete_message', { room_id: s.roomId, message_id: id })).toMatchObject({ success: false, error: 'forbidden' });
    expect((await s.t.api(s.ana, 'PATCH', `/api/rooms/${s.roomId}/members/${s.ben.id}`, { role: 'admin' })).status).toBe(200);
    expect(await ben.request('delete_message', { room_id: s.roomId, message_id: id })).toMatchObject({ success: true });
    await Promise.all([ana.close(), ben.close()]);
  });

  it('a room that becomes inactive unsubscribes its joined connections', async () => {
    s = await startWithRoom();
    const ben = await CommandClient.connect(s.t, s.ben);
    expect((await ben.request('join_room', { room_id: s.roomId })).success).toBe(true);
    expect((await s.t.api(s.ana, 'PATCH', `/api/rooms/${s.roomId}`, { is_active: false })).status).toBe(200);
    expect(RoomEventSchemas.unsubscribed.parse((await ben.event('unsubscribed')).data).code).toBe('room_inactive');
    expect(await ben.request('send_message', { room_id: s.roomId, content: 'hello?' })).toMatchObject({ success: false, error: 'room_inactive' });
    await ben.close();
  });

  it('refuses writes past the room document limit with document_too_large', async () => {
    s = await startWithRoom({ PARLEY_MAX_DOC_BYTES: '4096' });
    const ana = await CommandClient.connect(s.t, s.ana);
    expect((await ana.request('send_message', { room_id: s.roomId, content: 'small' })).success).toBe(true);
    expect(await ana.request('send_message', { room_id: s.roomId, content: 'x'.repeat(5000) })).toMatchObject({ success: false, error: 'document_too_large' });
    expect(await ana.request('fetch_history', { room_id: s.roomId })).toMatchObject({ success: true });
    await ana.close();
  });
});
