import { IDBKeyRange, indexedDB } from 'fake-indexeddb';
import { WebSocket } from 'ws';
import { ChatClient } from '../../client/ChatClient.ts';
import type { ChatRoom } from '../../client/room/ChatRoom.ts';
import type { WebSocketConstructor } from '../../client/sync/WebSocketLike.ts';
import { SEGMENT_MAX_MESSAGES } from '../../shared/roomDoc/segments.ts';
import { MiB, tempDir, withLogTail } from '../load/peerRun.ts';
import { type Probe, type RunningPeer, startPeer } from '../load/peerServer.ts';
import { BENCH_SECRET, prepareRooms } from '../load/rooms.ts';
import { SEED_AUTHOR } from '../load/seed.ts';
import { type SeededHistory, seedHistoryInSegments } from '../load/segmentedRoom.ts';
import type { Figure, RunOptions, Scenario } from '../scenario.ts';
import { canCollectGarbage, heapUsedAfterGc, median } from '../stats.ts';
import { countingWebSocket } from '../../test/support/countingWebSocket.ts';

/*
 * A large room, with Parley's defaults (segments of 5,000 messages; SDK and server options left
 * alone): a room of 1,000,000 messages (quick: 200,000), ~80 characters each, written into the
 * server's SQLite already in segments (bench/load/segmentedRoom.ts: the head as the conversion at
 * 5,000 messages leaves it, tombstones included), against a room of 50 messages (one document)
 * measured the same way. The SDK runs here on fake-indexeddb and `ws`; the server is the
 * compiled CLI in a child process (bench/load/peerServer.ts, whose preloaded probe answers with
 * its heap and RSS).
 *
 * - Cold client: a fresh database; from ChatClient.open() + openRoom() until room.messages({limit:
 *   50}) returns the room's 50 newest ids, checked on every 'change' as an app re-rendering would
 *   (no sleeps). The first open after the server started (it loads the documents from SQLite) is
 *   reported on its own; the median is of the runs after it (documents loaded on the server, as
 *   in a room in use). Also what that client received over its socket (every frame, counted by a
 *   wrapped `ws`) and the JS heap it holds with the room open, after gc (this process; includes
 *   fake-indexeddb's in-memory copy of what it stored).
 * - Warm client: the last cold run's database opened again with the server stopped (offline:
 *   nothing listens at its URL), the same measure: the room from IndexedDB, or its recent page
 *   (ChatClient.recentMessages, which the web app paints while the room loads) if that comes first.
 * - Server: heap after gc (main thread) and RSS (the process: the storage worker thread too)
 *   with the last cold reader on the room, against the same server just started.
 *
 * The 1M room's open segment is empty (200 segments of 5,000, all sealed): a reader syncs the
 * head, the open segment and the newest sealed one (the open one holds less than a page), its
 * worst case; the ratio to the 50-message room is the target (within 2x).
 */

const PAGE = 50;
const SMALL = 50;
const OPEN_TIMEOUT_MS = 120_000;

interface Sizes {
  readonly messages: number;
  /** Cold-client runs after the first one (which the server answers from SQLite). */
  readonly coldRuns: number;
  readonly warmRuns: number;
}
const QUICK: Sizes = { messages: 200_000, coldRuns: 3, warmRuns: 3 };
const FULL: Sizes = { messages: 1_000_000, coldRuns: 5, warmRuns: 5 };

const label = (messages: number): string =>
  messages >= 1_000_000 ? `${messages / 1_000_000}M room` : messages >= 1_000 ? `${messages / 1_000}k room` : `${messages}-msg room`;

let dbCounter = 0;
const dbName = (label: string): string => `parley-bench-large-${label}-${process.pid}-${++dbCounter}`;

function deleteDatabase(name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.deleteDatabase(name);
    request.onsuccess = () => resolve();
    request.onerror = () => reject(request.error ?? new Error(`could not delete ${name}`));
  });
}

/** A client with Parley's defaults, on fake-indexeddb and the given WebSocket. */
const openClient = (serverUrl: string, token: string, name: string, Ws: WebSocketConstructor): Promise<ChatClient> =>
  ChatClient.open({ serverUrl, getToken: () => token, dbName: name, indexedDB, IDBKeyRange, WebSocket: Ws, requestPersistentStorage: false });

/** Resolves once room.messages({limit: PAGE}) holds exactly `expected` (oldest first), re-checking on each 'change'. */
function newestShown(room: ChatRoom, expected: readonly string[]): Promise<void> {
  const want = expected.join();
  const shown = (): boolean => room.messages({ limit: PAGE }).messages.map((m) => m.id).join() === want;
  if (shown()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    let lastError = '';
    const offs: Array<() => void> = [];
    const done = (): void => {
      clearTimeout(timer);
      for (const off of offs) off();
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`the newest ${PAGE} messages were not shown within ${OPEN_TIMEOUT_MS / 1000} s (shown: ${room.messages({ limit: PAGE }).messages.length}; connection ${room.connectionState}${lastError ? `; last error: ${lastError}` : ''})`));
    }, OPEN_TIMEOUT_MS);
    offs.push(
      room.on('error', (e) => (lastError = `${e.code}: ${e.message}`)),
      room.on('change', () => {
        if (!shown()) return;
        done();
        resolve();
      }),
    );
  });
}

/** Whether the room is segmented, waiting (untimed) for its head to sync when it `expected` to be. */
function becomesSegmented(room: ChatRoom, expected: boolean): Promise<boolean> {
  if (room.segmented || !expected) return Promise.resolve(room.segmented);
  return new Promise((resolve) => {
    const timer = setTimeout(() => done(false), OPEN_TIMEOUT_MS);
    const off = room.on('change', () => {
      if (room.segmented) done(true);
    });
    function done(segmented: boolean): void {
      clearTimeout(timer);
      off();
      resolve(segmented);
    }
  });
}

interface Opened {
  readonly ms: number;
  readonly client: ChatClient;
  readonly room: ChatRoom;
}

interface OpenTarget {
  readonly serverUrl: string;
  readonly token: string;
  readonly roomId: string;
  readonly expected: readonly string[];
}

/**
 * ChatClient.open() + openRoom() until the newest page is shown, as the web app shows it
 * (RoomController): the device's recent page (recentMessages) while the room loads, or the room.
 */
async function openAndShow(target: OpenTarget, name: string, Ws: WebSocketConstructor): Promise<Opened> {
  const start = performance.now();
  const client = await openClient(target.serverUrl, target.token, name, Ws);
  try {
    const want = target.expected.join();
    const fromDevice = client.recentMessages(target.roomId).then(
      (page) => (page?.slice(-PAGE).map((m) => m.id).join() === want ? performance.now() : Infinity),
      () => Infinity,
    );
    const room = await client.openRoom(target.roomId);
    await newestShown(room, target.expected);
    return { ms: Math.min(await fromDevice, performance.now()) - start, client, room };
  } catch (error) {
    await client.close();
    throw error;
  }
}

interface RoomResult {
  readonly seed: SeededHistory;
  readonly firstCold: number;
  readonly cold: number[];
  readonly warm: number[];
  readonly bytes: number[];
  readonly heaps: number[];
  readonly segmented: boolean;
  readonly serverStarted: Probe;
  readonly serverOpen: Probe;
}

async function measureRoom(messages: number, sizes: Sizes): Promise<RoomResult> {
  const tmp = tempDir('parley-bench-large-room-');
  const start = (): Promise<RunningPeer> => startPeer('parley', { dataDir: tmp.dir, secret: BENCH_SECRET });
  let server = await start();
  const stop = async (): Promise<void> => {
    const exit = await server.stop();
    if (exit !== 0) throw new Error(`parley did not stop cleanly (${exit})`);
  };
  const dbs: string[] = [];
  try {
    // One member besides the history's author: the reader, who created the room.
    const [prepared] = await prepareRooms(server, 1, 1, [SEED_AUTHOR.userId]);
    const reader = prepared?.members[0];
    if (!prepared || !reader) throw new Error('no room');
    await stop();
    const seed = seedHistoryInSegments(tmp.dir, prepared.roomId, SEED_AUTHOR.userId, messages);
    server = await start();
    const target = { serverUrl: server.httpUrl, token: reader.token, roomId: prepared.roomId, expected: seed.newest(PAGE) };
    const serverStarted = await server.probe({ gc: true });

    // Cold clients: the first answered by a server that just loaded the room from SQLite.
    const cold: number[] = [];
    const bytes: number[] = [];
    const heaps: number[] = [];
    let firstCold = Number.NaN;
    let segmented = false;
    let serverOpen = serverStarted;
    const heapBefore = heapUsedAfterGc();
    for (let run = 0; run <= sizes.coldRuns; run++) {
      const name = dbName('cold');
      dbs.push(name);
      const counting = countingWebSocket();
      const opened = await Promise.race([openAndShow(target, name, counting.WebSocket), server.died]);
      const received = counting.received();
      // The newest page may show (from the server's recent page) before the head has synced.
      segmented = await becomesSegmented(opened.room, messages >= SEGMENT_MAX_MESSAGES);
      const heap = heapUsedAfterGc() - heapBefore;
      if (run === 0) firstCold = opened.ms;
      else {
        cold.push(opened.ms);
        bytes.push(received);
        heaps.push(heap);
      }
      // The reader still on the room: what the server holds for it.
      if (run === sizes.coldRuns) serverOpen = await server.probe({ gc: true });
      await opened.client.close();
      // Only the last database is kept (for the warm runs): fake-indexeddb holds them in this heap.
      if (run < sizes.coldRuns) await deleteDatabase(dbs.pop() ?? name);
    }
    if (messages >= SEGMENT_MAX_MESSAGES && !segmented) throw new Error(`the ${label(messages)} did not open as a segmented room`);

    // Warm clients: the last cold client's database, the server stopped (nothing listens at its URL).
    await stop();
    const warmDb = dbs.at(-1) ?? '';
    const warm: number[] = [];
    for (let run = 0; run < sizes.warmRuns; run++) {
      const opened = await openAndShow(target, warmDb, WebSocket as unknown as WebSocketConstructor);
      if (opened.room.connectionState === 'online') throw new Error('the warm client reached a server');
      warm.push(opened.ms);
      await opened.client.close();
    }
    return { seed, firstCold, cold, warm, bytes, heaps, segmented, serverStarted, serverOpen };
  } catch (error) {
    throw withLogTail(error, 'parley', tmp.dir);
  } finally {
    await server.stop();
    for (const name of dbs) await deleteDatabase(name).catch(() => undefined);
    tmp.remove();
  }
}

function roomFigures(r: RoomResult, sizes: Sizes, firstNote = ''): Figure[] {
  const l = label(r.seed.messages);
  const shape = r.seed.segments > 0 ? `${r.seed.segments} segments stored, ${(r.seed.storedBytes / MiB).toFixed(0)} MiB; seeded in ${(r.seed.seedMs / 1000).toFixed(1)} s` : `one document of ${(r.seed.storedBytes / 1024).toFixed(0)} KiB`;
  const heapNote = 'this process, after gc, against before the first open; includes fake-indexeddb\'s in-memory copy of what it stored';
  const s = { started: r.serverStarted, open: r.serverOpen };
  return [
    { metric: `${l}: cold client, open to newest ${PAGE}`, value: median(r.cold), unit: 'ms', note: `fresh database, from the server (documents loaded there); median of ${sizes.coldRuns}; ${shape}`, better: 'lower' },
    { metric: `${l}: cold client, first open after server start`, value: r.firstCold, unit: 'ms', note: `the server loads the documents from SQLite; one run${firstNote}`, better: 'lower' },
    { metric: `${l}: warm client, open to newest ${PAGE}`, value: median(r.warm), unit: 'ms', note: `same database reopened offline (server stopped), from IndexedDB; median of ${sizes.warmRuns}`, better: 'lower' },
    { metric: `${l}: bytes the cold client received`, value: median(r.bytes) / 1024, unit: 'KiB', note: 'every WebSocket frame until the newest page was shown (feed and presence included)', better: 'lower' },
    ...(canCollectGarbage ? [{ metric: `${l}: cold client heap with the room open`, value: median(r.heaps) / MiB, unit: 'MiB', note: heapNote, better: 'lower' as const }] : []),
    {
      metric: `${l}: server heap with a reader on it`,
      value: s.open.heapUsedBytes / MiB,
      unit: 'MiB',
      note: `main thread, after gc; ${(s.started.heapUsedBytes / MiB).toFixed(1)} MiB just started, +${((s.open.heapUsedBytes - s.started.heapUsedBytes) / MiB).toFixed(1)} MiB`,
      better: 'lower',
    },
    {
      metric: `${l}: server RSS with a reader on it`,
      value: s.open.rssBytes / MiB,
      unit: 'MiB',
      note: `the process, storage worker included; ${(s.started.rssBytes / MiB).toFixed(0)} MiB just started; peak ${(s.open.peakRssBytes / MiB).toFixed(0)} MiB`,
      better: 'lower',
    },
  ];
}

/** Heap of a whole room's Y.Doc per message, as roomDocQueries measures it (100k to 1M rooms: 880 to 912 B/msg). */
const WHOLE_DOC_BYTES_PER_MSG = 900;

const heapAdded = (r: RoomResult): number => r.serverOpen.heapUsedBytes - r.serverStarted.heapUsedBytes;

const largeRoom: Scenario = {
  name: 'largeRoom',
  description: `SDK (fake-indexeddb) + server child: a room of 1M messages in segments (quick: 200k) against one of ${SMALL}: open to the newest ${PAGE} on a cold client (from the server) and a warm one (offline, from IndexedDB), bytes received, client heap, server heap and RSS with a reader on it`,
  async run({ quick }: RunOptions): Promise<Figure[]> {
    const sizes = quick ? QUICK : FULL;
    // The small room first: its first open also warms this process's JIT for the big one.
    const small = await measureRoom(SMALL, sizes);
    const big = await measureRoom(sizes.messages, sizes);
    const b = label(sizes.messages);
    const s = label(SMALL);
    return [
      ...roomFigures(big, sizes),
      ...roomFigures(small, sizes, "; also this process's first client (JIT cold)"),
      { metric: `${b} / ${s}: cold open`, value: median(big.cold) / median(small.cold), unit: '×', note: 'target ≤ 2', better: 'lower' },
      { metric: `${b} / ${s}: warm open`, value: median(big.warm) / median(small.warm), unit: '×', note: 'target ≤ 2', better: 'lower' },
      {
        metric: `server heap a reader adds: ${b} - ${s}`,
        value: (heapAdded(big) - heapAdded(small)) / MiB,
        unit: 'MiB',
        note: `after gc; bounded by the documents open (head, open segment, newest sealed), not the room's size: a Y.Doc of the whole room would be ~${((sizes.messages * WHOLE_DOC_BYTES_PER_MSG) / MiB).toFixed(0)} MiB (roomDocQueries: ~${WHOLE_DOC_BYTES_PER_MSG} B/msg)`,
        better: 'lower',
      },
    ];
  },
};

export default largeRoom;
