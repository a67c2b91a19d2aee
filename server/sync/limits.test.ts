import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import * as Y from 'yjs';
import type { Socket } from 'node:net';
import { WebSocket } from 'ws';
import type { WebsocketProvider } from 'y-websocket';
import { createMessage, deleteMessage } from '../../shared/roomDoc/messageOps.ts';
import { listMessages } from '../../shared/roomDoc/queries.ts';
import { CloseCode } from '../../shared/protocol/closeCodes.ts';
import { decodeServerFrame } from '../../shared/protocol/frames.ts';
import { ConfigError, loadConfig } from '../config.ts';
import { DEFAULT_SYNC_LIMITS } from '../limits/SyncLimits.ts';
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
import { CommandClient } from '../../test/support/commandClient.ts';
import { RawSocket, messageTypeOf } from '../../test/support/rawSocket.ts';
import { MessageType } from '../../shared/protocol/messageTypes.ts';
import { serverLogs, type LogLine } from '../../test/support/logCapture.ts';
import { awarenessFrame, errorsIn, errorsOf, isStep2, joinedOrClosed, openRaw, step1Frame, updateFrame } from '../../test/support/syncFrames.ts';

// The server's log goes to memory: tests await the server's own record of what it decided.
vi.mock('../log.ts', () => import('../../test/support/logCapture.ts').then((m) => m.logModule));

const contents = (doc: Y.Doc): string[] => listMessages(doc, { limit: 10_000 }).messages.map((m) => m.content);

/** The update of each message, one per transaction, as a provider would send them. */
function messageUpdates(user: TestUser, texts: readonly string[], doc = new Y.Doc()): Uint8Array[] {
  const updates: Uint8Array[] = [];
  const record = (u: Uint8Array) => updates.push(u);
  doc.on('update', record);
  for (const content of texts) {
    const result = createMessage(doc, { userId: user.id, role: 'member' }, { content });
    if (!result.ok) throw new Error(result.message);
  }
  doc.off('update', record);
  return updates;
}

function send(doc: Y.Doc, user: TestUser, content: string): void {
  const result = createMessage(doc, { userId: user.id, role: 'member' }, { content });
  if (!result.ok) throw new Error(result.message);
}

const logOf = (msg: string, user: TestUser) => (line: LogLine) => line.msg === msg && line.user === user.id;
/**
 * Resolves once the server has released the slots of `count` more of `user`'s sockets (it logs
 * each release at debug level), with the user's open count after the last of them.
 */
function slotsReleased(user: TestUser, count: number): Promise<unknown> {
  const released = () => serverLogs.all(logOf('sync connection slot released', user));
  const target = released().length + count;
  return serverLogs.next(() => released().length >= target).then(() => released().at(-1)?.open);
}

describe('limits configuration', () => {
  const base = { PARLEY_DEV_LOGIN: '1' };

  it('defaults to the documented limits', () => {
    const config = loadConfig(base, []);
    expect(config.syncLimits).toEqual(DEFAULT_SYNC_LIMITS);
    expect(config.syncLimits).toEqual({
      syncBurst: 200,
      syncPerSecond: 50,
      awarenessBurst: 1000,
      awarenessPerSecond: 200,
      maxConnectionsPerUser: 50,
      maxBufferedBytes: 4 * 1024 * 1024,
      maxDocsPerConnection: 1000,
    });
    expect(config.maxFrameBytes).toBe(1024 * 1024);
    expect(config.sqliteSynchronous).toBe('FULL');
  });

  it('reads every limit from the environment (rates may be fractional)', () => {
    const config = loadConfig(
      {
        ...base,
        PARLEY_RATE_BURST: '10',
        PARLEY_RATE_PER_SEC: '0.5',
        PARLEY_AWARENESS_RATE_BURST: '20',
        PARLEY_AWARENESS_RATE_PER_SEC: '2.5',
        PARLEY_MAX_CONNECTIONS_PER_USER: '3',
        PARLEY_MAX_BUFFERED_BYTES: '65536',
        PARLEY_MAX_FRAME_BYTES: '2048',
        PARLEY_MAX_DOCS_PER_CONNECTION: '7',
      },
      [],
    );
    expect(config.syncLimits).toEqual({
      syncBurst: 10,
      syncPerSecond: 0.5,
      awarenessBurst: 20,
      awarenessPerSecond: 2.5,
      maxConnectionsPerUser: 3,
      maxBufferedBytes: 65536,
      maxDocsPerConnection: 7,
    });
    expect(config.maxFrameBytes).toBe(2048);
    // Empty means unset.
    expect(loadConfig({ ...base, PARLEY_RATE_BURST: '' }, []).syncLimits.syncBurst).toBe(200);
  });

  it.each([
    ['PARLEY_RATE_BURST', '0'],
    ['PARLEY_RATE_BURST', '1.5'],
    ['PARLEY_RATE_BURST', 'lots'],
    ['PARLEY_RATE_PER_SEC', '0'],
    ['PARLEY_RATE_PER_SEC', '-3'],
    ['PARLEY_AWARENESS_RATE_BURST', '-1'],
    ['PARLEY_AWARENESS_RATE_PER_SEC', 'Infinity'],
    ['PARLEY_MAX_CONNECTIONS_PER_USER', '0'],
    ['PARLEY_MAX_BUFFERED_BYTES', '1000'],
    ['PARLEY_MAX_FRAME_BYTES', '100'],
  ])('refuses %s=%s, naming the variable', (name, value) => {
    expect(() => loadConfig({ ...base, [name]: value }, [])).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, [name]: value }, [])).toThrow(name);
  });
});

describe('rate limit (token bucket per connection)', () => {
  let t: TestServer;
  let ana: TestUser;
  let ben: TestUser;
  let roomId: string;
  const providers: WebsocketProvider[] = [];
  beforeEach(async () => {
    ({ t, ana, ben, roomId } = await startWithRoom({
      PARLEY_RATE_BURST: '20',
      PARLEY_RATE_PER_SEC: '0.1',
      PARLEY_AWARENESS_RATE_BURST: '30',
      PARLEY_AWARENESS_RATE_PER_SEC: '0.1',
    }));
  });
  afterEach(async () => {
    for (const p of providers.splice(0)) p.destroy();
    await t.dispose();
  });

  it('a flood of updates: the frames past the burst close it with 4529 and an error; only the burst is stored; others keep syncing', async () => {
    const bystander = connectProvider(t, roomId, ben, new Y.Doc(), { parley: true });
    providers.push(bystander);
    await synced(bystander);
    const raw = await openRaw(t, roomId, ana);
    const texts = Array.from({ length: 60 }, (_, i) => `flood ${i}`);
    for (const update of messageUpdates(ana, texts)) raw.send(updateFrame(update));

    const closed = await raw.closed;
    expect(closed.code).toBe(CloseCode.RateLimited);
    expect(errorsOf(raw)).toEqual([{ code: 'RateLimited', reason: 'more than 20 sync frames in a burst or 0.1 per second' }]);
    const log = await serverLogs.next(logOf('sync connection rate limited', ana));
    expect(log).toMatchObject({ room: roomId, user: ana.id, frames: 'sync', burst: 20 });

    // The bystander keeps syncing: its own message is committed and a newcomer sees exactly the
    // 20 admitted frames and it (the rest were dropped unread, never stored).
    send(bystander.doc, ben, 'Ben is unaffected');
    await acknowledged(bystander);
    const late = connectProvider(t, roomId, ben);
    providers.push(late);
    await synced(late);
    await untilDoc(late.doc, (d) => contents(d).includes('Ben is unaffected'));
    expect(contents(late.doc).sort()).toEqual([...texts.slice(0, 20), 'Ben is unaffected'].sort());
  });

  it('a flood of awareness frames has its own bucket: 4529 past its burst', async () => {
    const raw = await openRaw(t, roomId, ana);
    // 20 sync frames first: the sync bucket is now empty, yet awareness frames still pass...
    for (const update of messageUpdates(ana, Array.from({ length: 20 }, (_, i) => `m${i}`))) raw.send(updateFrame(update));
    for (let clock = 1; clock <= 40; clock++) raw.send(awarenessFrame([{ clientId: 4242, clock, state: { typing: clock % 2 === 0 } }]));
    expect((await raw.closed).code).toBe(CloseCode.RateLimited);
    expect(errorsOf(raw)).toEqual([{ code: 'RateLimited', reason: 'more than 30 awareness frames in a burst or 0.1 per second' }]);
    // ...until the 31st awareness frame.
    expect(await serverLogs.next(logOf('sync connection rate limited', ana))).toMatchObject({ room: roomId, frames: 'awareness', burst: 30 });
  });

  it('a stock client (no parley=1) is closed with 4529 too, without the error message', async () => {
    const raw = await RawSocket.open(`${t.syncUrl}/${roomId}?token=${ana.token}`);
    for (let i = 0; i < 25; i++) raw.send(step1Frame());
    expect((await raw.closed).code).toBe(CloseCode.RateLimited);
    expect(errorsOf(raw)).toEqual([]);
  });
});

describe('rate limit defaults never trip a legitimate client', () => {
  let t: TestServer;
  afterEach(() => t.dispose());

  it('a long offline backlog (one step-2 frame), a typing burst and a message burst pass untouched', async () => {
    const room = await startWithRoom();
    t = room.t;
    const { ana, ben, roomId } = room;
    // 3000 messages written offline reach the server as one sync step 2 on connect.
    const offline = new Y.Doc();
    for (let i = 0; i < 3000; i++) send(offline, ana, `offline ${i}`);
    const a = connectProvider(t, roomId, ana, offline, { parley: true });
    let closes = 0;
    a.on('connection-close', () => closes++);
    await synced(a);
    await acknowledged(a);
    // Online: 150 messages as fast as the code can send them (one frame each), and 150
    // awareness changes (typing on, off...), well above what a person does.
    for (let i = 0; i < 150; i++) {
      send(a.doc, ana, `online ${i}`);
      a.awareness.setLocalStateField('typing', i % 2 === 0);
    }
    await acknowledged(a);
    const b = connectProvider(t, roomId, ben);
    await synced(b);
    await untilDoc(b.doc, (d) => contents(d).length === 3150);
    expect(closes).toBe(0);
    expect(serverLogs.all(logOf('sync connection rate limited', ana))).toEqual([]);
    a.destroy();
    b.destroy();
  });
});

describe('connections per user', () => {
  let t: TestServer;
  let ana: TestUser;
  let ben: TestUser;
  let roomId: string;
  let otherRoom: string;
  const sockets: RawSocket[] = [];
  const open = async (user: TestUser, room = roomId) => {
    const raw = await openRaw(t, room, user);
    sockets.push(raw);
    return raw;
  };
  beforeEach(async () => {
    t = await startTestServer({ PARLEY_MAX_CONNECTIONS_PER_USER: '3' });
    ana = await t.login('Ana');
    ben = await t.login('Ben');
    roomId = await t.createRoom(ana, [ben]);
    otherRoom = await t.createRoom(ana, [ben]);
  });
  afterEach(async () => {
    for (const raw of sockets.splice(0)) raw.close();
    await t.dispose();
  });

  it('the connection over the cap (across rooms) is accepted then closed with 4530; closing one frees a slot', async () => {
    const first = await open(ana);
    const second = await open(ana);
    const third = await open(ana, otherRoom);
    expect(await Promise.all([first, second, third].map(joinedOrClosed))).toEqual(['joined', 'joined', 'joined']);

    const fourth = await open(ana, otherRoom);
    expect(await joinedOrClosed(fourth)).toBe(CloseCode.TooManyConnections);
    expect(errorsOf(fourth)).toEqual([{ code: 'TooManyConnections', reason: 'more than 3 open connections for this user' }]);
    expect(await serverLogs.next(logOf('sync connection over the per-user cap', ana))).toMatchObject({ room: otherRoom, max: 3 });
    // Another user is not affected, and Ana's three connections still work.
    expect(await joinedOrClosed(await open(ben))).toBe('joined');
    expect([first, second, third].every((raw) => raw.ws.readyState === WebSocket.OPEN)).toBe(true);

    const released = slotsReleased(ana, 1);
    second.close();
    expect(await released).toBe(2);
    expect(await joinedOrClosed(await open(ana))).toBe('joined');
    expect(await joinedOrClosed(await open(ana))).toBe(CloseCode.TooManyConnections);
  });

  it('counts exactly under a race: of 20 parallel opens 3 join, and after they close 3 join again', async () => {
    for (let round = 0; round < 2; round++) {
      const raws = await Promise.all(Array.from({ length: 20 }, (_, i) => open(ana, i % 2 ? roomId : otherRoom)));
      const outcomes = await Promise.all(raws.map(joinedOrClosed));
      expect(outcomes.filter((o) => o === 'joined')).toHaveLength(3);
      expect(outcomes.filter((o) => o === CloseCode.TooManyConnections)).toHaveLength(17);
      // Every socket, refused or not, closes: only the three counted ones may release a slot.
      const allReleased = slotsReleased(ana, 3);
      for (const raw of raws) raw.close();
      expect(await allReleased).toBe(0);
    }
  });

  it('opens that fail (a room that cannot load, a refused token or membership) never hold a slot', async () => {
    const carl = await t.login('Carl');
    const broken = await t.createRoom(ana, []);
    t.server.db
      .prepare('INSERT INTO room_snapshots (room_id, data, up_to_seq, updated_at) VALUES (?, ?, 0, 0)')
      .run(broken, Buffer.from([5, 0xff, 0xff, 0xff, 0xff, 1, 2]));
    // More failed opens than the cap, one after the other: each holds a slot only until its socket closes.
    for (let i = 0; i < 5; i++) {
      const released = slotsReleased(ana, 1);
      const failed = await open(ana, broken);
      expect((await failed.closed).code).toBe(CloseCode.InternalError);
      expect(await released).toBe(0);
    }
    const strangers = await Promise.all(Array.from({ length: 5 }, () => open(carl)));
    expect(await Promise.all(strangers.map((raw) => raw.closed.then((c) => c.code)))).toEqual(Array(5).fill(CloseCode.Forbidden));
    const healthy = await Promise.all(Array.from({ length: 3 }, () => open(ana)));
    expect(await Promise.all(healthy.map(joinedOrClosed))).toEqual(['joined', 'joined', 'joined']);
    expect(await Promise.all(Array.from({ length: 3 }, () => open(carl, otherRoom).then(joinedOrClosed)))).toEqual(
      Array(3).fill(CloseCode.Forbidden),
    );
  });
});

describe('slow consumer', () => {
  let t: TestServer;
  afterEach(() => t.dispose());

  it('a reader that stops reading is closed with 4531 once its send buffer passes the limit; others keep syncing', async () => {
    // Answered in one frame (under PARLEY_SLICED_LOAD_BYTES), not paced: the send buffer fills at once.
    const room = await startWithRoom({ PARLEY_MAX_BUFFERED_BYTES: '65536', PARLEY_SLICED_LOAD_BYTES: String(1024 * 1024) });
    t = room.t;
    const { ana, ben, roomId } = room;
    const a = connectProvider(t, roomId, ana, new Y.Doc(), { parley: true });
    await synced(a);
    // About 1 MiB of room: every full sync step 2 the server sends is that big.
    for (let i = 0; i < 64; i++) send(a.doc, ana, `${i} `.padEnd(16_000, 'x'));
    await acknowledged(a);
    const fullState = Y.encodeStateAsUpdate(a.doc).byteLength;

    // Ben's socket stops reading (TCP backpressure) and keeps asking for the whole room.
    const ws = new WebSocket(`${t.syncUrl}/${roomId}?token=${ben.token}&parley=1`);
    const received: Uint8Array[] = [];
    ws.on('message', (data: Buffer) => received.push(new Uint8Array(data)));
    const closed = new Promise<number>((resolve) => ws.once('close', (code: number) => resolve(code)));
    const socket = await new Promise<Socket>((resolve, reject) => {
      ws.once('upgrade', (res) => resolve(res.socket));
      ws.once('error', reject);
    });
    await new Promise((resolve) => ws.once('message', resolve));
    socket.pause();
    for (let i = 0; i < 100; i++) ws.send(step1Frame());

    const log = await serverLogs.next(logOf('sync connection closed: slow consumer', ben));
    expect(log).toMatchObject({ room: roomId, max: 65536 });
    // Memory held for the stalled reader stays bounded: the limit plus at most two full frames.
    expect(log.buffered).toBeGreaterThan(65536);
    expect(log.buffered).toBeLessThanOrEqual(65536 + 2 * (fullState + 64));

    // Once it reads again it finds the error message and the close code after its backlog.
    socket.resume();
    expect(await closed).toBe(CloseCode.SlowConsumer);
    expect(errorsIn(received)).toEqual([{ code: 'SlowConsumer', reason: expect.stringMatching(/^reading too slowly: \d+ bytes wait unread/) }]);

    send(a.doc, ana, 'still flowing');
    await acknowledged(a);
    const b = connectProvider(t, roomId, ben);
    await synced(b);
    await untilDoc(b.doc, (d) => contents(d).includes('still flowing'));
    expect(contents(b.doc)).toHaveLength(65);
    a.destroy();
    b.destroy();
  });
  it('a reader on a slow link downloading a big room is paced, not closed: it gets the whole room when it reads again', async () => {
    // Every whole-room reply is cut into slices here, and the reader may hold 64 KiB unread.
    const room = await startWithRoom({ PARLEY_MAX_BUFFERED_BYTES: '65536', PARLEY_SLICED_LOAD_BYTES: '0' });
    t = room.t;
    const { ana, ben, roomId } = room;
    const a = connectProvider(t, roomId, ana, new Y.Doc(), { parley: true });
    await synced(a);
    // About 6 MiB of room: more than the kernel's socket buffers take, so most of it must wait in the server.
    for (let batch = 0; batch < 8; batch++) {
      a.doc.transact(() => {
        for (let i = 0; i < 48; i++) send(a.doc, ana, `${batch * 48 + i} `.padEnd(16_000, 'x'));
      });
    }
    await acknowledged(a);

    const ws = new WebSocket(`${t.syncUrl}/${roomId}?token=${ben.token}&parley=1`);
    const received: Uint8Array[] = [];
    ws.on('message', (data: Buffer) => received.push(new Uint8Array(data)));
    const socket = await new Promise<Socket>((resolve, reject) => {
      ws.once('upgrade', (res) => resolve(res.socket));
      ws.once('error', reject);
    });
    await new Promise((resolve) => ws.once('message', resolve));
    socket.pause();
    ws.send(step1Frame());
    // The server holds the rest back for Ben rather than queueing it on his socket (and closing him as too slow).
    let decided = false;
    const closedAsSlow = serverLogs.next(logOf('sync connection closed: slow consumer', ben)).then(() => 'closed as a slow consumer');
    const paced = (async () => {
      while (!decided && t.server.pacer.waiting === 0) await new Promise((resolve) => setImmediate(resolve));
      return 'paced';
    })();
    const outcome = await Promise.race([paced, closedAsSlow]);
    decided = true;
    expect(outcome).toBe('paced');
    socket.resume();

    const doc = new Y.Doc();
    const applied = new Set<Uint8Array>();
    await new Promise<void>((resolve, reject) => {
      const check = (): void => {
        for (const frame of received) {
          if (applied.has(frame)) continue;
          applied.add(frame);
          const decoded = decodeServerFrame(frame);
          if (decoded.ok && (decoded.frame?.type === 'syncStep2' || decoded.frame?.type === 'update')) Y.applyUpdate(doc, decoded.frame.update);
        }
        if (contents(doc).length === 384) resolve();
      };
      ws.on('message', check);
      ws.once('close', (code: number) => reject(new Error(`closed with ${code}`)));
      check();
    });
    expect(ws.readyState).toBe(WebSocket.OPEN);
    expect(errorsIn(received)).toEqual([]);
    ws.close();
    a.destroy();
  });
});

describe('frame size', () => {
  let t: TestServer;
  afterEach(() => t.dispose());

  /** An awareness frame of exactly `size` bytes (its state is over the 4 KiB cap, so it is refused). */
  function awarenessFrameOfSize(size: number): Uint8Array {
    let pad = size - 40;
    for (;;) {
      const frame = awarenessFrame([{ clientId: 99, clock: 1, state: { blob: 'x'.repeat(pad) } }]);
      if (frame.byteLength === size) return frame;
      pad += size - frame.byteLength;
    }
  }

  it('PARLEY_MAX_FRAME_BYTES is the largest frame read: one byte more closes with 1009; others keep syncing', async () => {
    t = await startTestServer({ PARLEY_MAX_FRAME_BYTES: '65536' });
    const ana = await t.login('Ana');
    const roomId = await t.createRoom(ana, []);
    const bystander = connectProvider(t, roomId, ana, new Y.Doc(), { parley: true });
    await synced(bystander);

    const atLimit = await openRaw(t, roomId, ana);
    atLimit.send(awarenessFrameOfSize(65536));
    // Read and judged (the state is over the awareness cap), and the connection stays open.
    await atLimit.next((m) => messageTypeOf(m) === MessageType.Error);
    expect(errorsOf(atLimit)).toEqual([{ code: 'awareness_refused', reason: 'awareness state over 4096 bytes' }]);
    expect(atLimit.ws.readyState).toBe(WebSocket.OPEN);

    const over = await openRaw(t, roomId, ana);
    over.send(awarenessFrameOfSize(65537));
    expect((await over.closed).code).toBe(CloseCode.MessageTooBig);
    expect(atLimit.ws.readyState).toBe(WebSocket.OPEN);

    send(bystander.doc, ana, 'after the big frame');
    await acknowledged(bystander);
    atLimit.close();
    bystander.destroy();
  });
});

describe('document size', () => {
  let t: TestServer;
  afterEach(() => t.dispose());

  it('a stock client refused for a full room is not stopped for good: once the owner cleans up, its write gets in', async () => {
    t = await startTestServer({ PARLEY_MAX_DOC_BYTES: '8192' });
    const ana = await t.login('Ana');
    const ben = await t.login('Ben');
    const roomId = await t.createRoom(ana, [ben]);
    const owner = connectProvider(t, roomId, ana, new Y.Doc(), { parley: true });
    await synced(owner);
    for (let i = 0; i < 20; i++) send(owner.doc, ana, `${i} ${'x'.repeat(200)}`);
    await acknowledged(owner);

    const stock = connectProvider(t, roomId, ben);
    const finalCloses: number[] = [];
    stock.on('closed', (event: { code: number }) => finalCloses.push(event.code));
    await synced(stock);
    const refused = closedByServer(stock);
    send(stock.doc, ben, `from ben ${'y'.repeat(600)}`);
    expect((await refused).code).toBe(CloseCode.DocumentTooLarge);

    // The owner cleans up; the stock client keeps retrying and gets in once the room is compacted.
    for (const message of listMessages(owner.doc, { limit: 100 }).messages.slice(0, 6)) deleteMessage(owner.doc, { userId: ana.id, role: 'owner' }, { id: message.id });
    await acknowledged(owner);
    await untilDoc(owner.doc, (doc) => contents(doc).some((c) => c.startsWith('from ben')));
    expect(finalCloses).toEqual([]);
    stock.destroy();
    owner.destroy();
  });

  it('an update that would take the stored room past PARLEY_MAX_DOC_BYTES is refused with 4513 (retried, not final) and document_too_large; the room stays readable', async () => {
    t = await startTestServer({ PARLEY_MAX_DOC_BYTES: '8192' });
    const ana = await t.login('Ana');
    const roomId = await t.createRoom(ana, []);
    const writer = connectProvider(t, roomId, ana, new Y.Doc(), { parley: true });
    await synced(writer);
    // About 400 bytes per message: 20 fit (the limit binds a burst within one turn too).
    const big = 'x'.repeat(200);
    let sent = 0;
    while (sent < 20) {
      send(writer.doc, ana, `${sent} ${big}`);
      sent++;
    }
    await acknowledged(writer);
    const room = t.server.registry.get(roomId);
    expect(room).toBeDefined();

    const raw = await openRaw(t, roomId, ana);
    const [update] = messageUpdates(ana, [`one too many ${big.repeat(5)}`]);
    raw.send(updateFrame(update ?? new Uint8Array()));
    expect((await raw.closed).code).toBe(CloseCode.DocumentTooLarge);
    expect(errorsOf(raw)).toEqual([{ code: 'document_too_large', reason: 'this room is full (8192 bytes stored): an owner or admin can delete old messages to make room, and the server frees it within seconds' }]);
    await serverLogs.next((line) => line.msg === 'update refused' && line.code === 'document_too_large' && line.user === ana.id);

    // Reading still works: a fresh client gets everything stored.
    const reader = connectProvider(t, roomId, ana);
    await synced(reader);
    expect(contents(reader.doc)).toHaveLength(sent);
    reader.destroy();

    // The owner deletes some (a full room still takes clean-up writes): once compacted, the room is re-measured while still loaded and takes a message again.
    const compacted = new Promise<void>((resolve) => t.server.compactor.onCompacted((outcome) => outcome.ok && outcome.roomId === roomId && outcome.updatesMerged > 0 && resolve()));
    for (const message of listMessages(writer.doc, { limit: 100 }).messages.slice(0, 3)) deleteMessage(writer.doc, { userId: ana.id, role: 'owner' }, { id: message.id });
    await acknowledged(writer);
    // A refused write asks for the compaction itself (the log of 3 deletions is under the thresholds).
    const again = await openRaw(t, roomId, ana);
    again.send(updateFrame(messageUpdates(ana, [`after the clean-up ${big.repeat(5)}`])[0] ?? new Uint8Array()));
    expect((await again.closed).code).toBe(CloseCode.DocumentTooLarge);
    await compacted;
    expect(t.server.registry.get(roomId)).toBe(room);
    const fits = await openRaw(t, roomId, ana);
    fits.send(updateFrame(messageUpdates(ana, [`after the clean-up ${big}`])[0] ?? new Uint8Array()));
    fits.send(step1Frame());
    await fits.next(isStep2);
    expect(errorsOf(fits)).toEqual([]);
    fits.close();
    writer.destroy();
  });

  it('one member cannot fill a room: past their growth share their writes are refused with member_quota and 4529 (retried), while others keep writing', async () => {
    t = await startTestServer({ PARLEY_MEMBER_GROWTH_BYTES_PER_HOUR: '8000' });
    const ana = await t.login('Ana');
    const mallory = await t.login('Mallory');
    const roomId = await t.createRoom(ana, [mallory]);
    const canary = connectProvider(t, roomId, ana, new Y.Doc(), { parley: true });
    await synced(canary);
    const canaryCloses: number[] = [];
    canary.on('connection-close', (event: { code: number } | null) => canaryCloses.push(event?.code ?? 0));

    // Mallory's big messages: the first ones fit the 8,000-byte share, then they are refused.
    const raw = await openRaw(t, roomId, mallory);
    const updates = messageUpdates(mallory, Array.from({ length: 12 }, (_, i) => `${i} ${'m'.repeat(1000)}`));
    for (const update of updates) raw.send(updateFrame(update));
    expect((await raw.closed).code).toBe(CloseCode.RateLimited);
    const [error] = errorsOf(raw);
    expect(error?.code).toBe('member_quota');
    expect(error?.reason).toMatch(/^you added more to this room lately than one member may; try again in \d+ s$/);
    // What the server kept: a fresh reader's sync is answered only once nothing is pending.
    const reader = connectProvider(t, roomId, ana);
    await synced(reader);
    const stored = contents(reader.doc).length;
    reader.destroy();
    expect(stored).toBeGreaterThan(0);
    expect(stored).toBeLessThan(updates.length);
    // Ana's open client gets exactly those; the refusal, on Mallory's socket, may have come first.
    await untilDoc(canary.doc, (doc) => contents(doc).length === stored);

    // The same share holds on the command endpoint, and Ana's writes are untouched by Mallory's.
    const bot = await CommandClient.connect(t, mallory);
    await bot.request('join_room', { room_id: roomId });
    const answer = await bot.request('send_message', { room_id: roomId, content: 'z'.repeat(2000), message_type: 'text' });
    expect(answer).toMatchObject({ success: false, error: 'member_quota' });
    await bot.close();
    send(canary.doc, ana, 'the canary still writes');
    await acknowledged(canary);
    await untilDoc(canary.doc, (doc) => contents(doc).includes('the canary still writes'));
    expect(canaryCloses).toEqual([]);
    canary.destroy();
  });
});
