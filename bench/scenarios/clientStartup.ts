import net from 'node:net';
import { IDBKeyRange, indexedDB } from 'fake-indexeddb';
import { WebSocket } from 'ws';
import * as Y from 'yjs';
import { ChatClient } from '../../client/ChatClient.ts';
import { DexieLocalStore } from '../../client/store/DexieLocalStore.ts';
import type { WebSocketConstructor } from '../../client/sync/WebSocketLike.ts';
import { uuidv7 } from '../../shared/ids.ts';
import type { Actor } from '../../shared/roomDoc/actor.ts';
import { createMessage } from '../../shared/roomDoc/messageOps.ts';
import { startChildServer, stopChildServer } from '../../test/support/childServer.ts';
import { makeTempDir } from '../../test/support/tempDir.ts';
import { createRoom, devLogin } from '../load/parleyApi.ts';
import type { Figure, RunOptions, Scenario } from '../scenario.ts';
import { canCollectGarbage, heapUsedAfterGc, median, quantile } from '../stats.ts';

/*
 * The client SDK on Node with fake-indexeddb (an in-memory IndexedDB: real browsers add their
 * own disk costs, so these are the SDK's share of them).
 *
 * - Cold start: a 100,000-message room (~80 characters each) stored locally as one compacted
 *   snapshot; from ChatClient.open() (offline: nothing listens at the server URL) to the newest
 *   50 messages readable (openRoom + messages({limit: 50})), and the heap that room holds.
 * - Local send: send() to the message readable locally (getMessage), and send() to `sent` (the
 *   server's ack covers it), closed loop, against a server in a child process over loopback.
 */

const ALICE: Actor = { userId: '0c7f3a1e-58f2-4c8e-9a51-0b0f1c2d3e01', role: 'member' };
const BOB: Actor = { userId: '1d8e4b2f-69a3-4d9f-8b62-1c1e2d3e4f02', role: 'member' };
const ROOM = '2e9f5c3a-7ab4-4eaf-9c73-2d2f3e4f5a03';
const T0 = Date.UTC(2026, 0, 1);
const PAGE = 50;
const WARMUP = 50;

interface Sizes {
  readonly messages: number;
  readonly coldStarts: number;
  readonly sends: number;
}
const QUICK: Sizes = { messages: 100_000, coldStarts: 1, sends: 300 };
const FULL: Sizes = { messages: 100_000, coldStarts: 5, sends: 2_000 };

const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0');
function v7(ms: number, tail: number): string {
  const time = hex(ms, 12);
  const rand = hex(tail, 15);
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7${rand.slice(0, 3)}-8${rand.slice(3, 6)}-${rand.slice(6, 15)}000`;
}

function encodedRoom(n: number): Uint8Array {
  const doc = new Y.Doc();
  doc.transact(() => {
    for (let i = 0; i < n; i++) {
      const result = createMessage(doc, i % 3 === 0 ? BOB : ALICE, { id: v7(T0 + i * 1000, i), content: `message ${i} `.padEnd(80, '.'), now: T0 + n * 1000 });
      if (!result.ok) throw new Error(result.message);
    }
  });
  const update = Y.encodeStateAsUpdate(doc);
  doc.destroy();
  return update;
}

/** An unsigned token with the claims the client reads (the offline start never reaches a server). */
function offlineToken(userId: string, name: string): string {
  const part = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ sub: userId, name })}.signature`;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

const Ws = WebSocket as unknown as WebSocketConstructor;
let dbCounter = 0;
const dbName = (label: string): string => `parley-bench-${label}-${process.pid}-${++dbCounter}`;

/** A client on fake-indexeddb and `ws`, with no background sync (it would compete with the figures). */
const openClient = (serverUrl: string, token: string, name: string): Promise<ChatClient> =>
  ChatClient.open({
    serverUrl,
    getToken: () => token,
    dbName: name,
    indexedDB,
    IDBKeyRange,
    WebSocket: Ws,
    background: { enabled: false },
    requestPersistentStorage: false,
  });

async function coldStart(sizes: Sizes): Promise<Figure[]> {
  const update = encodedRoom(sizes.messages);
  const name = dbName('cold');
  const store = await DexieLocalStore.open({ name, indexedDB, IDBKeyRange });
  await store.appendUpdates(ROOM, [update]);
  // Stored as a compacted room is: one snapshot row.
  await store.compactRoom(ROOM, (parts) => (parts.length === 1 ? parts[0]! : Y.mergeUpdates([...parts])));
  await store.close();
  const serverUrl = `http://127.0.0.1:${await freePort()}`;
  const token = offlineToken(ALICE.userId, 'Alice');
  const times: number[] = [];
  const heaps: number[] = [];
  // One baseline for all runs: Yjs (or V8) keeps the last destroyed document alive until the next
  // one replaces it (a bare Y.Doc does the same), so a per-run "before" would count it.
  const before = heapUsedAfterGc();
  for (let run = 0; run < sizes.coldStarts; run++) {
    const start = performance.now();
    const client = await openClient(serverUrl, token, name);
    const room = await client.openRoom(ROOM);
    const page = room.messages({ limit: PAGE });
    times.push(performance.now() - start);
    if (page.messages.length !== PAGE) throw new Error(`expected ${PAGE} messages, got ${page.messages.length}`);
    heaps.push(heapUsedAfterGc() - before);
    await client.close();
  }
  const note = `${sizes.messages / 1000}k messages, one snapshot of ${(update.byteLength / 2 ** 20).toFixed(1)} MiB, fake-indexeddb; median of ${sizes.coldStarts}`;
  return [
    { metric: '100k room: cold start to newest 50 readable', value: median(times), unit: 'ms', note },
    ...(canCollectGarbage ? [{ metric: '100k room: heap held by the open room', value: median(heaps) / sizes.messages, unit: 'B/msg', note: `${(median(heaps) / 2 ** 20).toFixed(0)} MiB in all; after gc` }] : []),
  ];
}

async function sendLatency(sizes: Sizes): Promise<Figure[]> {
  const tmp = makeTempDir('parley-bench-client-');
  const server = await startChildServer(['--dev', '--port', '0', '--data-dir', tmp.dir], { PARLEY_LOG_LEVEL: 'info' });
  let client: ChatClient | null = null;
  try {
    const { token } = await devLogin(server.url, 'Bench Alice');
    const roomId = await createRoom(server.url, token, { name: 'bench', type: 'group' });
    client = await openClient(server.url, token, dbName('send'));
    const room = await client.openRoom(roomId);
    await new Promise<void>((resolve) => {
      if (room.connectionState === 'online') return resolve();
      const off = room.on('connection', (state) => {
        if (state === 'online') {
          off();
          resolve();
        }
      });
    });
    const readable: number[] = [];
    const sent: number[] = [];
    for (let i = 0; i < WARMUP + sizes.sends; i++) {
      const id = uuidv7();
      const start = performance.now();
      const stored = room.send({ id, content: `message ${i} `.padEnd(80, '.') });
      if (room.getMessage(id) === null) throw new Error('a sent message is not readable at once');
      const atReadable = performance.now();
      await stored;
      await room.whenSent(id);
      const atSent = performance.now();
      if (i < WARMUP) continue;
      readable.push(atReadable - start);
      sent.push(atSent - start);
    }
    const note = `closed loop, ${sizes.sends} msgs of ~80 characters, after ${WARMUP} unmeasured`;
    const sentNote = `${note}; stored in fake-indexeddb, then server in a child process over loopback`;
    return [
      { metric: 'send -> readable locally, median', value: median(readable) * 1000, unit: 'µs', note },
      { metric: 'send -> readable locally, p99', value: quantile(readable, 0.99) * 1000, unit: 'µs', note },
      { metric: 'send -> sent (acked), median', value: median(sent), unit: 'ms', note: sentNote },
      { metric: 'send -> sent (acked), p99', value: quantile(sent, 0.99), unit: 'ms', note: sentNote },
    ];
  } finally {
    await client?.close();
    await stopChildServer(server);
    tmp.remove();
  }
}

const clientStartup: Scenario = {
  name: 'clientStartup',
  description: 'Client SDK: cold start on a locally stored 100k-message room; send -> readable locally and send -> sent over loopback',
  async run({ quick }: RunOptions): Promise<Figure[]> {
    const sizes = quick ? QUICK : FULL;
    return [...(await coldStart(sizes)), ...(await sendLatency(sizes))];
  },
};

export default clientStartup;
