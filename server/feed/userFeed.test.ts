import { afterEach, describe, expect, it, vi } from 'vitest';
import * as Y from 'yjs';
import { FEED_DOCUMENT, FeedChangesSchema, feedKeepalive, type FeedChanges } from '../../shared/models/userFeed.ts';
import { CloseCode } from '../../shared/protocol/closeCodes.ts';
import { decodeMuxFrame, encodeOnChannel } from '../../shared/protocol/muxFrames.ts';
import { createMessage } from '../../shared/roomDoc/messageOps.ts';
import { MuxSocket } from '../../test/support/muxSocket.ts';
import { acknowledged, connectProvider, startTestServer, synced, type TestServer, type TestUser } from '../../test/support/serverHarness.ts';
import type { PersonalRoomState } from '../storage/MemberRepo.ts';

vi.mock('../log.ts', () => import('../../test/support/logCapture.ts').then((m) => m.logModule));

let t: TestServer;
afterEach(async () => {
  vi.restoreAllMocks();
  await t.dispose();
});

/** A device's feed channel on a multiplexed socket: resumes from `cursor`, collects every changes frame. */
async function openFeed(user: TestUser, cursor: string | null): Promise<{ mux: MuxSocket; channel: number; next: (p?: (c: FeedChanges) => boolean) => Promise<FeedChanges>; all: () => FeedChanges[] }> {
  const mux = await MuxSocket.open(t, user);
  const channel = mux.openChannel(FEED_DOCUMENT);
  const parse = (bytes: Uint8Array): FeedChanges | null => {
    const frame = decodeMuxFrame(bytes);
    if (!frame.ok || !('body' in frame.frame) || frame.frame.channel !== channel) return null;
    return FeedChangesSchema.parse(JSON.parse(new TextDecoder().decode(frame.frame.body)));
  };
  mux.raw.send(encodeOnChannel(channel, new TextEncoder().encode(JSON.stringify({ type: 'resume', cursor }))));
  let seen = 0;
  const next = async (p: (c: FeedChanges) => boolean = () => true): Promise<FeedChanges> => {
    const skip = seen;
    let index = 0;
    const bytes = await mux.raw.next((m) => {
      const changes = parse(m);
      if (!changes) return false;
      return index++ >= skip && p(changes);
    });
    seen = mux.raw.received.filter((m) => parse(m) !== null).indexOf(bytes) + 1;
    return parse(bytes) as FeedChanges;
  };
  return { mux, channel, next, all: () => mux.raw.received.flatMap((m) => parse(m) ?? []) };
}

const roomIds = (c: FeedChanges): string[] => c.rooms.map((r) => r.id).sort();
const seqOf = (c: FeedChanges): number => Number(c.cursor.split('.')[0]);

/**
 * Holds the server's next read of `members.personal(roomId, userId)` until `release()`, as a slow
 * PostgreSQL read would: the server's asynchronous directory (SqliteAsync) answers with what the
 * synchronous method returns, a promise included. Only the user feed reads this pair here.
 */
function holdPersonalRead(server: TestServer, roomId: string, userId: string): { reached: Promise<void>; release: () => void } {
  const members = server.server.directory.members;
  const personal = members.personal.bind(members);
  let reach = (): void => {};
  const reached = new Promise<void>((resolve) => (reach = resolve));
  let release = (): void => {};
  const released = new Promise<void>((resolve) => (release = resolve));
  let held = false;
  vi.spyOn(members, 'personal').mockImplementation((room, user, opts) => {
    if (held || room !== roomId || user !== userId) return personal(room, user, opts);
    held = true;
    reach();
    // A promise where the type says a value: SqliteAsync.call resolves with it, which is the point.
    return released.then(() => personal(room, user, opts)) as unknown as PersonalRoomState;
  });
  return { reached, release };
}

/** Resolves once the server answered a WebSocket ping on this socket: everything it sent before is in. */
function roundTrip(mux: MuxSocket): Promise<void> {
  return new Promise((resolve) => {
    mux.raw.ws.once('pong', () => resolve());
    mux.raw.ws.ping();
  });
}

describe('the user feed', () => {
  it('pushes rooms created, renamed, joined and lost live, with member names, and new messages as the room’s last message', async () => {
    t = await startTestServer();
    const ana = await t.login('Ana');
    const ben = await t.login('Ben');
    const cleo = await t.login('Cleo');
    const first = await t.createRoom(ana, []);
    const feed = await openFeed(ana, null);
    const reset = await feed.next();
    expect(reset).toMatchObject({ reset: true, removed: [] });
    expect(roomIds(reset)).toEqual([first]);

    // Ben starts a group with Ana: it appears.
    const group = await t.createRoom(ben, [ana]);
    const created = await feed.next((c) => c.rooms.some((r) => r.id === group));
    expect(created.reset).toBe(false);

    // Renamed: the new name arrives.
    expect((await t.api(ben, 'PATCH', `/api/rooms/${group}`, { name: 'Kick-off' })).status).toBe(200);
    expect((await feed.next((c) => c.rooms.some((r) => r.id === group && r.name === 'Kick-off'))).rooms).toHaveLength(1);

    // Cleo joins: member_count, and her membership with her name (only hers: the change, not the list).
    expect((await t.api(ben, 'POST', `/api/rooms/${group}/members`, { user_id: cleo.id })).status).toBe(201);
    const joined = await feed.next((c) => c.members.some((m) => m.room_id === group));
    expect(joined.rooms.find((r) => r.id === group)?.member_count).toBe(3);
    expect(joined.members).toEqual([{ room_id: group, complete: false, members: [expect.objectContaining({ user_id: cleo.id, is_active: true, user: { id: cleo.id, name: 'Cleo' } })] }]);

    // A message in the group: the room's last message follows, within the summary delay.
    const writer = connectProvider(t, group, ben);
    await synced(writer);
    createMessage(writer.doc, { userId: ben.id, role: 'owner' }, { content: 'Kick-off at 10' });
    const message = await feed.next((c) => c.rooms.some((r) => r.id === group && r.last_message?.['content'] === 'Kick-off at 10'));
    expect(message.removed).toEqual([]);
    // With Ana's own unread count, kept by the server: the list needs no document.
    expect(message.rooms.find((r) => r.id === group)?.unread_count).toBe(1);
    const list = (await t.api(ana, 'GET', '/api/rooms')).body as { rooms: Array<{ id: string; unread_count?: number }> };
    expect(list.rooms.find((r) => r.id === group)?.unread_count).toBe(1);
    writer.destroy();

    // Removed: the room goes.
    expect((await t.api(ben, 'DELETE', `/api/rooms/${group}/members/${ana.id}`)).status).toBe(204);
    expect((await feed.next((c) => c.removed.length > 0)).removed).toEqual([{ room_id: group, reason: 'removed' }]);
    feed.mux.close();
  });

  it('catches a device up from its cursor with only what changed while it was away', async () => {
    t = await startTestServer({ PARLEY_ROOM_CREATE_BURST: '100' });
    const ana = await t.login('Ana');
    const ben = await t.login('Ben');
    const quiet = await Promise.all(Array.from({ length: 20 }, () => t.createRoom(ana, [ben])));
    const busy = await t.createRoom(ana, [ben]);
    const gone = await t.createRoom(ben, [ana]);
    const before = await openFeed(ana, null);
    const cursor = (await before.next()).cursor;
    before.mux.close();

    // While Ana's device is away: a new room, a message in one room, a removal.
    const added = await t.createRoom(ben, [ana]);
    const writer = connectProvider(t, busy, ben, new Y.Doc(), { parley: true });
    await synced(writer);
    createMessage(writer.doc, { userId: ben.id, role: 'member' }, { content: 'while you were away' });
    await acknowledged(writer);
    writer.destroy();
    expect((await t.api(ben, 'DELETE', `/api/rooms/${gone}/members/${ana.id}`)).status).toBe(204);

    const after = await openFeed(ana, cursor);
    const caughtUp = await after.next();
    expect(caughtUp.reset).toBe(false);
    expect(roomIds(caughtUp)).toEqual([added, busy].sort());
    expect(caughtUp.rooms.find((r) => r.id === busy)?.last_message?.['content']).toBe('while you were away');
    expect(caughtUp.removed).toEqual([{ room_id: gone, reason: 'removed' }]);
    expect(quiet.some((id) => roomIds(caughtUp).includes(id))).toBe(false);

    // A cursor the server cannot use (invented) gets the whole list again.
    const lost = await openFeed(ana, '999999.0');
    const whole = await lost.next();
    expect(whole.reset).toBe(true);
    expect(roomIds(whole)).toEqual([...quiet, busy, added].sort());
    after.mux.close();
    lost.mux.close();
  });

  it('ends the feed channel alone on a frame that is not a resume (1002)', async () => {
    t = await startTestServer();
    const ana = await t.login('Ana');
    const mux = await MuxSocket.open(t, ana);
    const channel = mux.openChannel(FEED_DOCUMENT);
    mux.raw.send(encodeOnChannel(channel, new TextEncoder().encode('{"type":"resume"')));
    expect(await mux.closed(channel)).toMatchObject({ code: CloseCode.ProtocolError });
    const room = await t.createRoom(ana, []);
    await mux.join(room);
    mux.close();
  });

  it('speaks on a quiet feed: a keepalive that changes nothing and repeats the cursor sent last', async () => {
    t = await startTestServer({}, { feedKeepaliveMs: 100 });
    const ana = await t.login('Ana');
    const feed = await openFeed(ana, null);
    const reset = await feed.next();
    expect(await feed.next()).toEqual(feedKeepalive(reset.cursor));
    // A change moves the cursor: the keepalives after it repeat the new one.
    const room = await t.createRoom(ana, []);
    const created = await feed.next((c) => c.rooms.some((r) => r.id === room));
    expect(created.cursor).not.toBe(reset.cursor);
    expect(await feed.next()).toEqual(feedKeepalive(created.cursor));
    expect(await feed.next()).toEqual(feedKeepalive(created.cursor));
    feed.mux.close();
  });

  it('pushes the presence of people I share a room with: online when they connect, last seen when they leave', async () => {
    t = await startTestServer();
    const ana = await t.login('Ana');
    const ben = await t.login('Ben');
    const stranger = await t.login('Stranger');
    await t.createRoom(ana, [ben]);
    const feed = await openFeed(ana, null);
    await feed.next();
    const bens = await MuxSocket.open(t, ben);
    const online = await feed.next((c) => c.presence.some((p) => p.user_id === ben.id));
    expect(online.presence).toEqual([expect.objectContaining({ user_id: ben.id, is_online: true })]);
    bens.close();
    const offline = await feed.next((c) => c.presence.some((p) => p.user_id === ben.id && !p.is_online));
    expect(offline.presence[0]?.last_seen_at).not.toBeNull();
    // Someone who shares no room with Ana: nothing about them.
    const theirs = await MuxSocket.open(t, stranger);
    const room = await t.createRoom(ana, []);
    await feed.next((c) => c.rooms.some((r) => r.id === room));
    expect(feed.all().some((c) => c.presence.some((p) => p.user_id === stranger.id))).toBe(false);
    theirs.close();
    feed.mux.close();
  });

  it('delivers a user’s entries in sequence order when two changes overlap: entry n+1 never before entry n', async () => {
    t = await startTestServer();
    const ana = await t.login('Ana');
    const ben = await t.login('Ben');
    const cleo = await t.login('Cleo');
    const first = await t.createRoom(ben, [ana]);
    const second = await t.createRoom(ben, [ana]);
    const feed = await openFeed(ana, null);
    await feed.next();

    // Change 1 (Cleo joins the first room) appends entry n for Ana, then its read for her frame is slow.
    const hold = holdPersonalRead(t, first, ana.id);
    expect((await t.api(ben, 'POST', `/api/rooms/${first}/members`, { user_id: cleo.id })).status).toBe(201);
    await hold.reached;
    // Change 2 (the second room renamed) appends entry n+1 meanwhile; whatever it would push is in
    // once the socket answered a ping.
    expect((await t.api(ben, 'PATCH', `/api/rooms/${second}`, { name: 'Renamed' })).status).toBe(200);
    await roundTrip(feed.mux);
    hold.release();

    const isJoined = (c: FeedChanges): boolean => c.members.some((m) => m.room_id === first);
    const isRenamed = (c: FeedChanges): boolean => c.rooms.some((r) => r.id === second && r.name === 'Renamed');
    // The two frames in the order received: the join's (entry n) first.
    const one = await feed.next((c) => isJoined(c) || isRenamed(c));
    const two = await feed.next((c) => isJoined(c) || isRenamed(c));
    expect([isJoined(one), isRenamed(two)]).toEqual([true, true]);
    expect(seqOf(two)).toBe(seqOf(one) + 1);
    // And no frame's cursor ever went back.
    const frames = feed.all();
    const seqs = frames.map(seqOf);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    feed.mux.close();
  });
});
