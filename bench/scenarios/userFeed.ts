import { IDBKeyRange, indexedDB } from 'fake-indexeddb';
import { WebSocket } from 'ws';
import * as Y from 'yjs';
import { ChatClient } from '../../client/ChatClient.ts';
import type { WebSocketConstructor } from '../../client/sync/WebSocketLike.ts';
import { FEED_DOCUMENT } from '../../shared/models/userFeed.ts';
import { encodeFrame } from '../../shared/protocol/frames.ts';
import { decodeMuxFrame, encodeControl, encodeOnChannel } from '../../shared/protocol/muxFrames.ts';
import { isStep2 } from '../../test/support/syncFrames.ts';
import { startChildServer, stopChildServer, type ChildServer } from '../../test/support/childServer.ts';
import { makeTempDir } from '../../test/support/tempDir.ts';
import { createRoom, devLogin, type BenchLogin } from '../load/parleyApi.ts';
import { procStats } from '../load/peerServer.ts';
import { sleep } from '../load/session.ts';
import type { Figure, RunOptions, Scenario } from '../scenario.ts';
import { median, quantile } from '../stats.ts';

/*
 * Issue 15: one connection per device and the user feed, with Parley's defaults.
 *
 * - A reader in 200 rooms (each with one message from someone else), SDK on Node with
 *   fake-indexeddb: cold start from the server (a fresh device: ChatClient.open() to the room list
 *   with all 200 rooms and their unread counts), and from IndexedDB (the same device again: open()
 *   to that list, cached).
 * - Unread badge: a message sent (send() called) in a room the reader has not opened, to the
 *   reader's room list showing it unread; one at a time, cycling through 20 rooms. Includes the
 *   summary writer's delay (SUMMARY_FIRST_WRITE_MS after a quiet spell, else up to
 *   SUMMARY_WRITE_DELAY_MS after the room's last write), where the feed's pushes start.
 * - Server cost per connected user: U users, each in R rooms of their own, every room open and
 *   synced; one multiplexed socket per user (feed + R channels) against one socket per room (the
 *   design before). The server's RSS and CPU over an idle minute (presence renewals, heartbeats)
 *   after all are connected, each design on a fresh server process over the same database.
 */

interface Sizes {
  readonly coldStarts: number;
  readonly badges: number;
  readonly users: number;
  readonly roomsPerUser: number;
  readonly idleMs: number;
}
const QUICK: Sizes = { coldStarts: 3, badges: 20, users: 100, roomsPerUser: 20, idleMs: 30_000 };
const FULL: Sizes = { coldStarts: 10, badges: 60, users: 200, roomsPerUser: 20, idleMs: 60_000 };
/** The reader's rooms, made by this many owners (each within the default creation burst of 20). */
const OWNERS = 10;
const ROOMS_PER_OWNER = 20;

const Ws = WebSocket as unknown as WebSocketConstructor;
let dbCounter = 0;
const dbName = (label: string): string => `parley-bench-feed-${label}-${process.pid}-${++dbCounter}`;

const openClient = (serverUrl: string, token: string, name: string): Promise<ChatClient> =>
  ChatClient.open({ serverUrl, getToken: () => token, dbName: name, indexedDB, IDBKeyRange, WebSocket: Ws, background: { enabled: false }, requestPersistentStorage: false });

/** Resolves once the client's room list satisfies `done`. */
function untilList(client: ChatClient, done: (c: ChatClient) => boolean): Promise<void> {
  if (done(client)) return Promise.resolve();
  return new Promise((resolve) => {
    const off = client.on('rooms', () => {
      if (!done(client)) return;
      off();
      resolve();
    });
  });
}

async function readerFigures(server: ChildServer, sizes: Sizes): Promise<Figure[]> {
  const url = server.url;
  const reader = await devLogin(url, 'Reader');
  const owners: BenchLogin[] = [];
  const roomsOf = new Map<BenchLogin, string[]>();
  for (let o = 0; o < OWNERS; o++) {
    const owner = await devLogin(url, `Owner ${o}`);
    owners.push(owner);
    const rooms: string[] = [];
    for (let r = 0; r < ROOMS_PER_OWNER; r++) rooms.push(await createRoom(url, owner.token, { type: 'group', name: `room ${o}.${r}`, members: [{ user_id: reader.userId }] }));
    roomsOf.set(owner, rooms);
  }
  const total = OWNERS * ROOMS_PER_OWNER;
  // One message from the owner in every room.
  const writers = new Map<BenchLogin, ChatClient>();
  for (const owner of owners) {
    const client = await openClient(url, owner.token, dbName('owner'));
    writers.set(owner, client);
    for (const roomId of roomsOf.get(owner) ?? []) {
      const room = await client.openRoom(roomId);
      const message = await room.send({ content: `hello ${roomId}` });
      await room.whenSent(message.id);
    }
  }
  const allUnread = (c: ChatClient): boolean => c.rooms().length === total && c.rooms().every((s) => s.unreadCount === 1);

  const fromServer: number[] = [];
  const fromDevice: number[] = [];
  for (let run = 0; run < sizes.coldStarts; run++) {
    const name = dbName('reader');
    let start = performance.now();
    const fresh = await openClient(url, reader.token, name);
    await untilList(fresh, allUnread);
    fromServer.push(performance.now() - start);
    await fresh.close();
    start = performance.now();
    const again = await openClient(url, reader.token, name);
    await untilList(again, allUnread);
    fromDevice.push(performance.now() - start);
    await again.close();
  }

  // Badges: the reader's list open, messages in rooms it has not opened, one at a time.
  const listening = await openClient(url, reader.token, dbName('badges'));
  await untilList(listening, allUnread);
  const latencies: number[] = [];
  const owner = owners[0]!;
  const writer = writers.get(owner)!;
  const rooms = roomsOf.get(owner) ?? [];
  for (let i = 0; i < sizes.badges; i++) {
    const roomId = rooms[i % rooms.length]!;
    const room = await writer.openRoom(roomId);
    const before = listening.rooms().find((s) => s.room.id === roomId)?.unreadCount ?? 0;
    const start = performance.now();
    await room.send({ content: `badge ${i}` });
    await untilList(listening, (c) => (c.rooms().find((s) => s.room.id === roomId)?.unreadCount ?? 0) > before);
    latencies.push(performance.now() - start);
  }
  await listening.close();
  for (const client of writers.values()) await client.close();
  return [
    { metric: `cold start, ${total} rooms with unread counts, from the server (p50)`, value: median(fromServer), unit: 'ms', better: 'lower' },
    { metric: `cold start, ${total} rooms with unread counts, from IndexedDB (p50)`, value: median(fromDevice), unit: 'ms', better: 'lower' },
    { metric: 'message in an unopened room to the unread badge (p50)', value: median(latencies), unit: 'ms', better: 'lower', note: 'includes the summary writer’s delay' },
    { metric: 'message in an unopened room to the unread badge (p99)', value: quantile(latencies, 0.99), unit: 'ms', better: 'lower' },
  ];
}

type Design = 'one socket per device' | 'one socket per room';

/** Opens a socket and resolves once it is open. */
function openSocket(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

/** A user with every room open and synced: one multiplexed socket, or a socket per room. */
async function connectUser(base: string, token: string, rooms: readonly string[], design: Design): Promise<WebSocket[]> {
  const ws = base.replace(/^http/, 'ws');
  const empty = Y.encodeStateVector(new Y.Doc());
  if (design === 'one socket per room') {
    return Promise.all(
      rooms.map(async (roomId) => {
        const socket = await openSocket(`${ws}/sync/${roomId}?token=${encodeURIComponent(token)}&parley=1`);
        const synced = new Promise<void>((resolve) => socket.on('message', (data: Buffer) => isStep2(new Uint8Array(data)) && resolve()));
        socket.send(encodeFrame({ type: 'syncStep1', stateVector: empty }));
        await synced;
        return socket;
      }),
    );
  }
  const socket = await openSocket(`${ws}/ws/sync?token=${encodeURIComponent(token)}`);
  const pending = new Set(rooms.map((_, i) => i + 2));
  const synced = new Promise<void>((resolve) =>
    socket.on('message', (data: Buffer) => {
      const mux = decodeMuxFrame(new Uint8Array(data));
      if (mux.ok && 'body' in mux.frame && isStep2(mux.frame.body)) pending.delete(mux.frame.channel);
      if (pending.size === 0) resolve();
    }),
  );
  socket.send(encodeControl({ type: 'open', channel: 1, document: FEED_DOCUMENT }));
  socket.send(encodeOnChannel(1, new TextEncoder().encode(JSON.stringify({ type: 'resume', cursor: null }))));
  rooms.forEach((roomId, i) => {
    socket.send(encodeControl({ type: 'open', channel: i + 2, document: roomId }));
    socket.send(encodeOnChannel(i + 2, encodeFrame({ type: 'syncStep1', stateVector: empty })));
  });
  await synced;
  return [socket];
}

async function perUserCost(dataDir: string, users: readonly { login: BenchLogin; rooms: string[] }[], design: Design, sizes: Sizes): Promise<Figure[]> {
  const server = await startChildServer(['--dev', '--port', '0', '--data-dir', dataDir]);
  try {
    const pid = server.child.pid ?? 0;
    await sleep(2_000);
    const idle = procStats(pid);
    const sockets: WebSocket[] = [];
    for (const user of users) sockets.push(...(await connectUser(server.url, user.login.token, user.rooms, design)));
    const connected = procStats(pid);
    await sleep(sizes.idleMs);
    const after = procStats(pid);
    for (const socket of sockets) socket.terminate();
    if (!idle || !connected || !after) return [];
    const n = users.length;
    const perMinute = 60_000 / sizes.idleMs;
    return [
      { metric: `server RSS per connected user (${sizes.roomsPerUser} rooms open), ${design}`, value: (after.rssBytes - idle.rssBytes) / n / 1024, unit: 'KiB', better: 'lower', note: `${n} users, ${sockets.length} sockets` },
      { metric: `server CPU per connected user, idle, ${design}`, value: ((after.cpuMs - connected.cpuMs) * perMinute) / n, unit: 'ms/min', better: 'lower', note: `over ${sizes.idleMs / 1000} s` },
    ];
  } finally {
    await stopChildServer(server);
  }
}

async function costFigures(sizes: Sizes): Promise<Figure[]> {
  const tmp = makeTempDir();
  try {
    // Seed: users with rooms of their own, on a server that is then stopped.
    const seeding = await startChildServer(['--dev', '--port', '0', '--data-dir', tmp.dir]);
    const users: { login: BenchLogin; rooms: string[] }[] = [];
    try {
      for (let u = 0; u < sizes.users; u++) {
        const login = await devLogin(seeding.url, `User ${u}`);
        const rooms: string[] = [];
        for (let r = 0; r < sizes.roomsPerUser; r++) rooms.push(await createRoom(seeding.url, login.token, { type: 'group', name: `u${u} r${r}` }));
        users.push({ login, rooms });
      }
    } finally {
      await stopChildServer(seeding);
    }
    return [...(await perUserCost(tmp.dir, users, 'one socket per device', sizes)), ...(await perUserCost(tmp.dir, users, 'one socket per room', sizes))];
  } finally {
    tmp.remove();
  }
}

const scenario: Scenario = {
  name: 'userFeed',
  description: 'a user in 200 rooms: cold start, unread badge latency; server cost per user, one socket per device vs per room (defaults)',
  async run({ quick }: RunOptions): Promise<Figure[]> {
    const sizes = quick ? QUICK : FULL;
    const tmp = makeTempDir();
    const server = await startChildServer(['--dev', '--port', '0', '--data-dir', tmp.dir]);
    let reader: Figure[];
    try {
      reader = await readerFigures(server, sizes);
    } finally {
      await stopChildServer(server);
      tmp.remove();
    }
    return [...reader, ...(await costFigures(sizes))];
  },
};
export default scenario;
