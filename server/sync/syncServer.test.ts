import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import type { WebsocketProvider } from 'y-websocket';
import { createMessage } from '../../shared/roomDoc/messageOps.ts';
import { listMessages } from '../../shared/roomDoc/queries.ts';
import { markRead } from '../../shared/roomDoc/readOps.ts';
import { uuidv7Time } from '../../shared/ids.ts';
import { MessageType } from '../../shared/protocol/messageTypes.ts';
import { decodeServerFrame, encodeFrame } from '../../shared/protocol/frames.ts';
import { CloseCode } from '../../shared/protocol/closeCodes.ts';
import fs from 'node:fs';
import path from 'node:path';
import { SignJWT } from 'jose';
import { SqliteUpdateStore } from '../storage/SqliteUpdateStore.ts';
import {
  acknowledged,
  closedByServer,
  connectProvider,
  startTestServer,
  startWithRoom,
  synced,
  untilDoc,
  type TestServer,
  type TestUser,
} from '../../test/support/serverHarness.ts';
import { RawSocket, messageTypeOf } from '../../test/support/rawSocket.ts';
import { awarenessFrame, errorFrameOf, errorsOf, updateFrame } from '../../test/support/syncFrames.ts';

const contents = (doc: Y.Doc): string[] => listMessages(doc, { limit: 1000 }).messages.map((m) => m.content);

function send(doc: Y.Doc, user: TestUser, content: string): string {
  const result = createMessage(doc, { userId: user.id, role: 'member' }, { content });
  if (!result.ok) throw new Error(result.message);
  return result.id;
}

describe('sync server', () => {
  let t: TestServer;
  let ana: TestUser;
  let ben: TestUser;
  let roomId: string;
  const providers: WebsocketProvider[] = [];
  const open = (user: TestUser, { parley = false } = {}) => {
    const p = connectProvider(t, roomId, user, new Y.Doc(), { parley });
    providers.push(p);
    return p;
  };

  beforeEach(async () => {
    ({ t, ana, ben, roomId } = await startWithRoom());
  });
  afterEach(async () => {
    for (const p of providers.splice(0)) p.destroy();
    await t.dispose();
  });

  it('two stock WebsocketProvider clients converge and a late joiner gets the full history', async () => {
    const a = open(ana);
    const b = open(ben);
    await Promise.all([synced(a), synced(b)]);
    // Stock clients never receive Parley's extra message types (they would log an error for each).
    const typesSeen = new Set<number>();
    for (const p of [a, b]) p.ws?.addEventListener('message', (ev: MessageEvent) => typesSeen.add(messageTypeOf(new Uint8Array(ev.data as ArrayBuffer))));
    send(a.doc, ana, 'hello from Ana');
    send(b.doc, ben, 'hello from Ben');
    await untilDoc(a.doc, (d) => contents(d).length === 2);
    await untilDoc(b.doc, (d) => contents(d).length === 2);
    expect(contents(a.doc)).toEqual(contents(b.doc));
    expect(typesSeen.size).toBeGreaterThan(0);
    expect([...typesSeen].every((type) => type === MessageType.Sync || type === MessageType.Awareness)).toBe(true);

    const late = open(ana);
    await synced(late);
    await untilDoc(late.doc, (d) => contents(d).length === 2);
    expect(contents(late.doc)).toEqual(contents(a.doc));
  });

  it('keeps every message across a restart on the same data dir', async () => {
    const a = open(ana, { parley: true });
    await synced(a);
    for (let i = 0; i < 25; i++) send(a.doc, ana, `message ${i}`);
    const closed = closedByServer(a);
    // Wait until the server acknowledged (committed) everything before stopping it.
    await acknowledged(a);
    await t.stop();
    expect((await closed).code).toBe(CloseCode.GoingAway);
    a.destroy();
    await t.restart();
    const fresh = open(ben);
    await synced(fresh);
    await untilDoc(fresh.doc, (d) => contents(d).length === 25);
    expect(contents(fresh.doc)).toEqual(Array.from({ length: 25 }, (_, i) => `message ${i}`));
  });

  it('keeps the REST view in step: last_message and last_read_at follow the document', async () => {
    const a = open(ana, { parley: true });
    await synced(a);
    send(a.doc, ana, 'first');
    const lastId = send(a.doc, ana, 'second');
    const read = markRead(a.doc, { userId: ana.id, role: 'owner' }, lastId);
    expect(read.ok).toBe(true);
    await acknowledged(a);
    const rooms = (await t.api(ben, 'GET', '/api/rooms')).body as { rooms: Array<{ id: string; last_message: { content: string; sender_name: string } | null }> };
    expect(rooms.rooms.find((r) => r.id === roomId)?.last_message).toMatchObject({ content: 'second', sender_name: 'Ana' });
    const members = (await t.api(ben, 'GET', `/api/rooms/${roomId}/members`)).body as { members: Array<{ user_id: string; last_read_at: string | null }> };
    const anaMember = members.members.find((m) => m.user_id === ana.id);
    expect(anaMember?.last_read_at).toBe(new Date(uuidv7Time(lastId) ?? 0).toISOString());
  });

  it('writes the REST view lazily: within a second of a room’s last write, a commit leaves the SQLite columns alone until a read or an unload', async () => {
    const stored = (): string | null => {
      const row = t.server.db.prepare('SELECT last_message FROM rooms WHERE id = ?').get(roomId) as { last_message: string | null };
      return row.last_message === null ? null : (JSON.parse(row.last_message) as { content: string }).content;
    };
    const a = open(ana, { parley: true });
    await synced(a);
    send(a.doc, ana, 'lazy one');
    await acknowledged(a);
    // Any read that returns the projection writes what is due first.
    const rooms = (await t.api(ben, 'GET', '/api/rooms')).body as { rooms: Array<{ id: string; last_message: { content: string } | null }> };
    expect(rooms.rooms.find((r) => r.id === roomId)?.last_message?.content).toBe('lazy one');
    expect(stored()).toBe('lazy one');

    // Written just now: the next commit (committed, acknowledged, relayed) waits for the room's
    // next write, a second after this one (a busy room is written once a second).
    send(a.doc, ana, 'lazy two');
    await acknowledged(a);
    expect(stored()).toBe('lazy one');
    // Unloading the room writes what is due.
    a.destroy();
    await t.stop();
    await t.restart();
    expect(stored()).toBe('lazy two');
  });

  it('acknowledges an update with the committed state vector', async () => {
    const raw = await RawSocket.open(`${t.syncUrl}/${roomId}?token=${ana.token}&parley=1`);
    const doc = new Y.Doc();
    send(doc, ana, 'acked');
    raw.send(updateFrame(Y.encodeStateAsUpdate(doc)));
    const ack = decodeServerFrame(await raw.next((m) => messageTypeOf(m) === MessageType.Ack));
    if (!ack.ok || ack.frame?.type !== 'ack') throw new Error('not an ack');
    const sv = Y.decodeStateVector(ack.frame.stateVector);
    expect(sv.get(doc.clientID)).toBe(Y.getState(doc.store, doc.clientID));
    raw.close();
  });

  /** The server frame in `m`, or null when it does not decode. */
  const frameOf = (m: Uint8Array) => {
    const decoded = decodeServerFrame(m);
    return decoded.ok ? decoded.frame : null;
  };

  const stored = (): string[] => {
    const room = t.server.registry.get(roomId);
    return room ? contents(room.doc) : [];
  };

  /** Two messages by Ana on a new device; the update of the second depends on the first. */
  const twoMessages = (first: string, then: string): { doc: Y.Doc; second: Uint8Array } => {
    const doc = new Y.Doc();
    send(doc, ana, first);
    const before = Y.encodeStateVector(doc);
    send(doc, ana, then);
    return { doc, second: Y.encodeStateAsUpdate(doc, before) };
  };

  it('an update that depends on writes the connection has not sent yet is not refused: the server asks for them, and the step 2 that answers brings both', async () => {
    const raw = await RawSocket.open(`${t.syncUrl}/${roomId}?token=${ana.token}&parley=1`);
    const step1s = () => raw.received.filter((m) => frameOf(m)?.type === 'syncStep1');
    await raw.next((m) => frameOf(m)?.type === 'syncStep1');
    // Written offline, then one more right after reconnecting, sent before the step 2 (as a stock y-websocket client does).
    const { doc, second } = twoMessages('written offline', 'written on reconnect');
    raw.send(updateFrame(second));
    // The server asks with a step 1 of its own, stores nothing yet, and keeps the connection.
    const asked = await raw.next((m) => step1s().indexOf(m) === 1);
    const askedFrame = frameOf(asked);
    if (askedFrame?.type !== 'syncStep1') throw new Error('not a step 1');
    expect(stored()).toEqual([]);
    raw.send(encodeFrame({ type: 'syncStep2', update: Y.encodeStateAsUpdate(doc, askedFrame.stateVector) }));
    await raw.next((m) => {
      const ack = frameOf(m);
      return ack?.type === 'ack' && (Y.decodeStateVector(ack.stateVector).get(doc.clientID) ?? 0) >= Y.getState(doc.store, doc.clientID);
    });
    expect(stored()).toEqual(['written offline', 'written on reconnect']);
    expect(errorsOf(raw)).toEqual([]);
    raw.close();

    // A step 2 that, once asked for, still lacks what the update needs: that peer cannot provide it (4422).
    const liar = await RawSocket.open(`${t.syncUrl}/${roomId}?token=${ana.token}&parley=1`);
    const gapped = twoMessages('never sent', 'depends on it').second;
    liar.send(updateFrame(gapped));
    liar.send(encodeFrame({ type: 'syncStep2', update: gapped }));
    expect((await liar.closed).code).toBe(CloseCode.UpdateRefused);
    expect(errorsOf(liar).map((e) => e.code)).toEqual(['missing_dependencies']);
    expect(stored()).toEqual(['written offline', 'written on reconnect']);
  });

  it('answers a sync step 1 that names only client ids the room never saw as one asking for everything', async () => {
    const a = open(ana, { parley: true });
    await synced(a);
    send(a.doc, ana, 'one');
    send(a.doc, ana, 'two');
    await acknowledged(a);
    const raw = await RawSocket.open(`${t.syncUrl}/${roomId}?token=${ben.token}&parley=1`);
    raw.send(encodeFrame({ type: 'syncStep1', stateVector: Y.encodeStateVector(new Map([[424_242, 7], [a.doc.clientID, 0]])) }));
    const reply = frameOf(await raw.next((m) => frameOf(m)?.type === 'syncStep2'));
    if (reply?.type !== 'syncStep2') throw new Error('no step 2');
    const doc = new Y.Doc();
    Y.applyUpdate(doc, reply.update);
    expect(contents(doc)).toEqual(['one', 'two']);
    raw.close();
    a.destroy();
  });

  it('refuses a bad token (4401), a non-member (4403) and an unknown room (4404)', async () => {
    const carl = await t.login('Carl');
    const secret = fs.readFileSync(path.join(t.dataDir, 'dev-jwt-secret'), 'utf8').trim();
    const expired = await new SignJWT({ name: 'Ana' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(ana.id)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
      .sign(new TextEncoder().encode(secret));
    const forged = await new SignJWT({ name: 'Ana' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(ana.id)
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode('another-secret-of-at-least-32-bytes!!'));
    const cases: Array<[string, number]> = [
      [`${t.syncUrl}/${roomId}?token=${expired}`, CloseCode.Unauthorized],
      [`${t.syncUrl}/${roomId}?token=${forged}`, CloseCode.Unauthorized],
      [`${t.syncUrl}/${roomId}?token=not-a-jwt`, CloseCode.Unauthorized],
      [`${t.syncUrl}/${roomId}`, CloseCode.Unauthorized],
      [`${t.syncUrl}/${roomId}?token=${carl.token}`, CloseCode.Forbidden],
      [`${t.syncUrl}/00000000-0000-4000-8000-000000000000?token=${ana.token}`, CloseCode.RoomNotFound],
      [`${t.syncUrl}/not-a-uuid?token=${ana.token}`, CloseCode.RoomNotFound],
    ];
    for (const [url, code] of cases) {
      const raw = await RawSocket.open(url + (url.includes('?') ? '&' : '?') + 'parley=1');
      const closed = await raw.closed;
      expect(closed.code, url).toBe(code);
      // The reason also arrives as a Parley error message before the close.
      const error = raw.received.find((m) => messageTypeOf(m) === MessageType.Error);
      expect(error, url).toBeDefined();
    }
  });

  it('cuts a removed member off within a second', async () => {
    const b = open(ben);
    await synced(b);
    const closed = closedByServer(b);
    const started = Date.now();
    const res = await t.api(ana, 'DELETE', `/api/rooms/${roomId}/members/${ben.id}`);
    expect(res.status).toBeLessThan(300);
    const { code } = await closed;
    expect(code).toBe(CloseCode.Forbidden);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('relays awareness with the server-stamped identity', async () => {
    const a = open(ana);
    const b = open(ben);
    await Promise.all([synced(a), synced(b)]);
    // Ana claims to be Ben: the server overwrites the identity with the token's.
    a.awareness.setLocalState({ user: { id: ben.id, name: 'Ben', color: '#f00' }, typing: true });
    const seen = await new Promise<Record<string, unknown>>((resolve) => {
      const check = () => {
        const state = b.awareness.getStates().get(a.doc.clientID);
        if (state && state.typing) resolve(state);
      };
      b.awareness.on('change', check);
      check();
    });
    expect(seen.user).toEqual({ id: ana.id, name: 'Ana', color: '#f00' });
  });

  it("refuses awareness for another user's client id, keeping the real state", async () => {
    const a = open(ana);
    const watcher = open(ana);
    await Promise.all([synced(a), synced(watcher)]);
    a.awareness.setLocalState({ typing: false });
    const stateOf = (clientId: number) => watcher.awareness.getStates().get(clientId);
    const seen = (clientId: number, predicate: (s: Record<string, unknown>) => boolean) =>
      new Promise<void>((resolve) => {
        const check = () => {
          const state = stateOf(clientId);
          if (state && predicate(state)) {
            watcher.awareness.off('change', check);
            resolve();
          }
        };
        watcher.awareness.on('change', check);
        check();
      });
    await seen(a.doc.clientID, (state) => state.typing === false);

    const raw = await RawSocket.open(`${t.syncUrl}/${roomId}?token=${ben.token}`);
    const frame = (clientId: number, state: Record<string, unknown>) => awarenessFrame([{ clientId, clock: 1000, state }]);
    const benClientId = 424242;
    raw.send(frame(a.doc.clientID, { typing: 'spoofed' }));
    raw.send(frame(benClientId, { typing: true }));
    // Frames of one socket are handled in order: once Ben's own state arrives, the spoof was handled.
    await seen(benClientId, (state) => state.typing === true);
    expect(stateOf(a.doc.clientID)?.typing).toBe(false);
    expect(stateOf(benClientId)?.user).toEqual({ id: ben.id, name: 'Ben' });
    raw.close();
  });

  it('ignores the awareness echoes of stock clients, even of a server presence entry over the state cap', async () => {
    // A stock provider sends back every awareness state it receives. With 40 members the server's
    // presence entry is far over 4 KiB; echoing it must not be taken for an oversized state.
    const others = await Promise.all(Array.from({ length: 40 }, (_, i) => t.login(`Member ${i}`)));
    const bigRoom = await t.createRoom(ana, others);
    const p = connectProvider(t, bigRoom, ana, new Y.Doc(), { parley: true });
    providers.push(p);
    let closes = 0;
    p.on('connection-close', () => closes++);
    await synced(p);
    await new Promise<void>((resolve) => {
      const check = () => {
        const server = [...p.awareness.getStates().values()].find((state) => state.parley === 'server');
        if (server && JSON.stringify(server).length > 4096) resolve();
      };
      p.awareness.on('change', check);
      check();
    });
    send(p.doc, ana, 'after the echo');
    await acknowledged(p);
    expect(closes).toBe(0);
  });

  it('drops an own awareness state over 4 KiB with an error, and keeps the connection', async () => {
    const raw = await RawSocket.open(`${t.syncUrl}/${roomId}?token=${ana.token}&parley=1`);
    const frame = (state: Record<string, unknown>) => awarenessFrame([{ clientId: 777, clock: 1, state }]);
    raw.send(frame({ blob: 'x'.repeat(5000) }));
    const error = errorFrameOf(await raw.next((m) => messageTypeOf(m) === MessageType.Error));
    expect(error).toEqual({ type: 'error', code: 'awareness_refused', reason: 'awareness state over 4096 bytes' });
    // Still connected: a small state is accepted and relayed.
    const watcher = open(ben);
    await synced(watcher);
    raw.send(frame({ typing: true }));
    await new Promise<void>((resolve) => {
      const check = () => watcher.awareness.getStates().get(777)?.typing === true && resolve();
      watcher.awareness.on('change', check);
      check();
    });
    expect(watcher.awareness.getStates().get(777)?.blob).toBeUndefined();
    raw.close();
  });

  it('tracks presence: online while any device is connected, last_seen_at when the last one closes', async () => {
    const presenceOfAna = async () => {
      const res = await t.api(ben, 'GET', `/api/presence?user_ids=${ana.id}`);
      return (res.body as { presence: Array<{ is_online: boolean; last_seen_at: string | null }> }).presence[0];
    };
    const watcher = open(ben);
    await synced(watcher);
    const serverPresence = (userId: string) => {
      for (const state of watcher.awareness.getStates().values()) {
        if (state.parley === 'server') return (state.presence as Record<string, { is_online: boolean; status: string | null }>)[userId];
      }
      return undefined;
    };
    const untilWatcherSees = (predicate: () => boolean) =>
      new Promise<void>((resolve) => {
        const check = () => {
          if (!predicate()) return;
          watcher.awareness.off('change', check);
          resolve();
        };
        watcher.awareness.on('change', check);
        check();
      });
    const untilAnaOnline = (online: boolean) => untilWatcherSees(() => serverPresence(ana.id)?.is_online === online);

    expect((await presenceOfAna())?.is_online).toBe(false);
    const phone = open(ana);
    const laptop = open(ana);
    await Promise.all([synced(phone), synced(laptop), untilAnaOnline(true)]);
    expect((await presenceOfAna())?.is_online).toBe(true);

    // A status change reaches the room through the same channel.
    expect((await t.api(ana, 'PUT', '/api/me/status', { status: 'on the train' })).status).toBe(200);
    await untilWatcherSees(() => serverPresence(ana.id)?.status === 'on the train');

    const offlineSeen = untilAnaOnline(false);
    const phoneGone = untilWatcherSees(() => !watcher.awareness.getStates().has(phone.doc.clientID));
    phone.destroy();
    await phoneGone;
    // The server has handled the phone's close; Ana is still online through the laptop.
    expect((await presenceOfAna())?.is_online).toBe(true);
    expect(serverPresence(ana.id)?.is_online).toBe(true);
    const closedAt = Date.now();
    laptop.destroy();
    await offlineSeen;
    // The brief's bound: members learn of it within 2 seconds.
    expect(Date.now() - closedAt).toBeLessThan(2000);
    const after = await presenceOfAna();
    expect(after?.is_online).toBe(false);
    expect(after?.last_seen_at).not.toBeNull();
  });
});

describe('bad input on the sync endpoint', () => {
  let t: TestServer;
  let ana: TestUser;
  let roomId: string;
  beforeEach(async () => {
    t = await startTestServer({ PARLEY_MAX_FRAME_BYTES: '65536' });
    ana = await t.login('Ana');
    roomId = await t.createRoom(ana, []);
  });
  afterEach(() => t.dispose());

  const frames: Array<[string, Uint8Array | string, number]> = [
    ['a truncated varint', new Uint8Array([0x80]), CloseCode.ProtocolError],
    ['an unknown message type', new Uint8Array([42, 0]), CloseCode.ProtocolError],
    ['a sync message with a huge length prefix', new Uint8Array([0, 2, 0xff, 0xff, 0xff, 0xff, 0x0f, 1]), CloseCode.ProtocolError],
    ['an update that is not a Yjs update', new Uint8Array([0, 2, 3, 0xff, 0xff, 0xff]), CloseCode.UpdateRefused],
    ['a text frame', 'hello', CloseCode.ProtocolError],
    ['a frame over the size limit', new Uint8Array(70_000), CloseCode.MessageTooBig],
    ['a malformed awareness update', new Uint8Array([1, 3, 1, 1, 1]), CloseCode.ProtocolError],
    [
      'a sync step 1 naming over 1,024 more client ids than the room has',
      encodeFrame({ type: 'syncStep1', stateVector: Y.encodeStateVector(new Map(Array.from({ length: 2000 }, (_, i): [number, number] => [1_000_000 + i, 1]))) }),
      CloseCode.ProtocolError,
    ],
  ];

  it.each(frames)('closes a connection that sends %s, and keeps serving others', async (_name, frame, code) => {
    const bystander = connectProvider(t, roomId, ana);
    await synced(bystander);
    const raw = await RawSocket.open(`${t.syncUrl}/${roomId}?token=${ana.token}&parley=1`);
    raw.send(frame);
    expect((await raw.closed).code).toBe(code);
    if (code !== CloseCode.MessageTooBig) {
      const error = raw.received.map(errorFrameOf).find((e) => e !== null);
      expect(error).toBeDefined();
      expect(error?.reason.length).toBeGreaterThan(0);
    }
    // The bystander still syncs, and a new client sees its message.
    send(bystander.doc, ana, 'still here');
    const other = connectProvider(t, roomId, ana);
    await synced(other);
    await untilDoc(other.doc, (d) => contents(d).includes('still here'));
    other.destroy();
    bystander.destroy();
  });
});

describe('a room whose stored state is corrupt', () => {
  let t: TestServer;
  afterEach(() => t.dispose());

  it('fails only the sockets of that room, with 1011; every other room keeps serving', async () => {
    t = await startTestServer();
    const ana = await t.login('Ana');
    const broken = await t.createRoom(ana, []);
    const healthy = await t.createRoom(ana, []);
    t.server.db
      .prepare('INSERT INTO room_snapshots (room_id, data, up_to_seq, updated_at) VALUES (?, ?, 0, 0)')
      .run(broken, Buffer.from([5, 0xff, 0xff, 0xff, 0xff, 1, 2]));
    const raw = await RawSocket.open(`${t.syncUrl}/${broken}?token=${ana.token}&parley=1`);
    expect((await raw.closed).code).toBe(CloseCode.InternalError);
    const ok = connectProvider(t, healthy, ana);
    await synced(ok);
    send(ok.doc, ana, 'unaffected');
    const other = connectProvider(t, healthy, ana);
    await synced(other);
    await untilDoc(other.doc, (d) => contents(d).includes('unaffected'));
    ok.destroy();
    other.destroy();
  });
});

describe('room lifecycle: compaction and unload', () => {
  let t: TestServer;
  afterEach(() => t.dispose());

  it('compacts the log past the threshold and unloads an idle room; a later connection gets everything', async () => {
    t = await startTestServer({ PARLEY_COMPACT_UPDATES: '5', PARLEY_ROOM_IDLE_MS: '0' });
    const ana = await t.login('Ana');
    const roomId = await t.createRoom(ana, []);
    const a = connectProvider(t, roomId, ana, new Y.Doc(), { parley: true });
    await synced(a);
    const unloaded = new Promise<string>((resolve) => t.server.registry.onUnloaded(resolve));
    const stats = () => new SqliteUpdateStore(t.server.db).stats(roomId);
    // Compactions run in the worker while the room is loaded and once more at unload; wait for
    // the one after which the log is empty.
    const fullyCompacted = new Promise<void>((resolve) =>
      t.server.compactor.onCompacted((outcome) => {
        if (outcome.roomId === roomId && !t.server.registry.get(roomId) && stats().updates === 0) resolve();
      }),
    );
    for (let i = 0; i < 12; i++) send(a.doc, ana, `m${i}`);
    await acknowledged(a);
    a.destroy();
    expect(await unloaded).toBe(roomId);
    expect(t.server.registry.get(roomId)).toBeUndefined();
    await fullyCompacted;
    expect(stats().snapshotBytes).toBeGreaterThan(0);

    const again = connectProvider(t, roomId, ana);
    await synced(again);
    await untilDoc(again.doc, (d) => contents(d).length === 12);
    expect(contents(again.doc)).toEqual(Array.from({ length: 12 }, (_, i) => `m${i}`));
    again.destroy();
  });
});

describe('storage failure', () => {
  let t: TestServer;
  afterEach(() => t.dispose());

  it('a commit that fails (disk full) is neither relayed nor acknowledged; the client resends once storage recovers', async () => {
    t = await startTestServer();
    const ana = await t.login('Ana');
    const ben = await t.login('Ben');
    const roomId = await t.createRoom(ana, [ben]);
    const a = connectProvider(t, roomId, ana, new Y.Doc(), { parley: true });
    const b = connectProvider(t, roomId, ben);
    await Promise.all([synced(a), synced(b)]);
    send(a.doc, ana, 'stored');
    await untilDoc(b.doc, (d) => contents(d).includes('stored'));

    // A real SQLITE_FULL: cap the file at its current size.
    const pages = t.server.db.pragma('page_count', { simple: true }) as number;
    t.server.db.pragma(`max_page_count = ${pages}`);
    const closed = closedByServer(a);
    const relayedEarly: string[] = [];
    b.doc.on('update', () => relayedEarly.push(...contents(b.doc)));
    a.doc.transact(() => {
      for (let i = 0; i < 20; i++) send(a.doc, ana, 'x'.repeat(15_000));
    });
    expect((await closed).code).toBe(CloseCode.StorageUnavailable);
    expect(relayedEarly.some((c) => c.startsWith('xxx'))).toBe(false);

    // Storage recovers; the provider reconnects by itself (4503 is "try again later") and resends.
    t.server.db.pragma('max_page_count = 1073741823');
    await untilDoc(b.doc, (d) => contents(d).filter((c) => c.startsWith('xxx')).length === 20);
    expect(contents(b.doc)).toEqual(contents(a.doc));
    a.destroy();
    b.destroy();
  });
});
