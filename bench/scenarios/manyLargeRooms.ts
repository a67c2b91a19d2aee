import { randomUUID } from 'node:crypto';
import { statfsSync } from 'node:fs';
import { TokenService } from '../../server/auth/TokenService.ts';
import { DEFAULT_SYNC_LIMITS } from '../../server/limits/SyncLimits.ts';
import { SEGMENT_MAX_MESSAGES, segmentDocName } from '../../shared/roomDoc/segments.ts';
import { MuxReader, UpdateClocks } from '../load/muxReader.ts';
import { MiB, tempDir, withLogTail } from '../load/peerRun.ts';
import { type Probe, type RunningPeer, startPeer } from '../load/peerServer.ts';
import { BENCH_SECRET, prepareRooms } from '../load/rooms.ts';
import { SEED_AUTHOR } from '../load/seed.ts';
import { type SeededHistory, seedRoomsInSegments } from '../load/segmentedRoom.ts';
import { sleep } from '../load/session.ts';
import type { Figure, RunOptions, Scenario } from '../scenario.ts';

/*
 * Issue 16: the server's heap with 1,000 rooms of 100,000 messages each (quick: 20 rooms), 10
 * readers reading the newest messages of every room; the target is that it is bounded by the
 * documents open, not by the history stored. Server defaults, except the two settings named below
 * (and in the figures); the server is the compiled CLI in a child process
 * (bench/load/peerServer.ts), whose preloaded probe answers with its heap (main thread, after gc)
 * and RSS.
 *
 * - Rooms: created over REST (each by an owner of its own, within the per-user creation quota),
 *   with the 10 readers and the history's author as members; the server stopped, every room gets
 *   the same history written into its SQLite in segments (bench/load/segmentedRoom.ts
 *   seedRoomsInSegments: each document encoded once, its bytes stored under every room's names):
 *   20 sealed segments of 5,000 messages, an empty open one, and the head as a conversion leaves
 *   it (the segments map and 5,000 tombstones). A reader therefore syncs the head, the open segment
 *   and the newest sealed one, the SDK's worst case (the open one holds fewer than a page).
 * - Readers: 10 users, each reading every room as the SDK opens a room (the head, then the open
 *   segment and the newest sealed one) and holding the three documents open. Not the SDK itself:
 *   in this process it would keep every segment in fake-indexeddb (~1.6 MB a room, for every
 *   reader). A lean client speaks the multiplexed protocol (shared/protocol/muxFrames.ts) as the
 *   SDK does: a channel per document, our sync step 1 with an empty state vector, the server's
 *   greeting step 1 answered (we have nothing), and a document counts as synced, as in the SDK
 *   (client/sync/RoomConnection.ts), once its step 2 came and the updates received reach the
 *   state vector of the server's greeting (a segment over 1 MiB comes as a step 2 and updates).
 *   It applies nothing: it reads the clocks each update reaches (Y.parseUpdateMeta), once per
 *   distinct update (the rooms hold the same bytes, and a room's readers share the server's
 *   whole-room reply). A socket holds at most PARLEY_MAX_DOCS_PER_CONNECTION documents (1,000), so
 *   a reader opens a socket per 333 rooms (4 for 1,000 rooms, within the 50 connections a user
 *   may hold), and syncs ROOMS_IN_FLIGHT rooms at a time on each, so that the replies the server
 *   queues on one socket stay under the slow-consumer limit (PARLEY_MAX_BUFFERED_BYTES, 4 MiB).
 * - Figures: the server's heap and RSS just started and with every reader synced on every room;
 *   what a server holding each room as one whole document would need, for comparison; how long
 *   seeding and opening took; and the heap once the readers closed and the idle unload ran (a
 *   segment unloads PARLEY_ROOM_IDLE_MS after its last reader, 30 s by default, and lets its head
 *   go, which unloads that much later again: the quick run shortens it, named in the figure).
 *   The full run raises the server's V8 heap limit (FULL), also named in the figures.
 */

interface Sizes {
  readonly rooms: number;
  readonly messages: number;
  /** PARLEY_ROOM_IDLE_MS for the run: the server's default unless set. */
  readonly roomIdleMs?: number;
  /** The server's V8 heap limit (--max-old-space-size, MiB): Node's default unless set. */
  readonly serverHeapMiB?: number;
}
const QUICK: Sizes = { rooms: 20, messages: 100_000, roomIdleMs: 2_000 };
/**
 * The server runs with Node's default heap limit (4,144 MiB on a 23 GB machine). The readers add
 * ~1.5 MiB of server heap a room since sealed segments are read from storage (record
 * 2026-12-04T075701Z-81ecaaa); they added ~6.6 MiB before, and the full run needed 12 GiB.
 */
const FULL: Sizes = { rooms: 1_000, messages: 100_000 };
const READERS = 10;
/** The server's default PARLEY_ROOM_IDLE_MS (server/config.ts). */
const DEFAULT_ROOM_IDLE_MS = 30_000;
/** Documents a reader holds per room: the head, the open segment and the newest sealed one. */
const DOCS_PER_ROOM = 3;
const ROOMS_PER_SOCKET = Math.floor(DEFAULT_SYNC_LIMITS.maxDocsPerConnection / DOCS_PER_ROOM);
/** Rooms one socket syncs at once: a head's reply (~270 KB) is sent unpaced, a sealed segment's (~1.3 MB) paced. */
const ROOMS_IN_FLIGHT = 4;
/** A forced gc of a heap of several GiB takes seconds. */
const PROBE_TIMEOUT_MS = 120_000;
/** Stored bytes per message of the seeded history (measured: 26.8 MB for 100,000, head included) with SQLite's pages, for the disk check... */
const STORED_BYTES_PER_MESSAGE = 280;
/** ...plus room for the WAL, the logs and whatever else the machine writes meanwhile. */
const DISK_MARGIN_BYTES = 4 * 2 ** 30;
/** After the last reader left: a segment's idle time, then its head's, then this for the unloads themselves. */
const UNLOAD_MARGIN_MS = 5_000;
/** Heap of a whole room's Y.Doc per message, as roomDocQueries measures it (100k to 1M rooms: 880 to 912 B/msg; largeRoom.ts). */
const WHOLE_DOC_BYTES_PER_MSG = 900;
const GB = 1e9;

/** The documents a reader of a room opens, in the SDK's order: the head, then the open segment and the newest sealed one. */
function readingOrder(roomId: string, seed: SeededHistory): readonly (readonly string[])[] {
  const open = Math.floor(seed.messages / SEGMENT_MAX_MESSAGES);
  return [[roomId], [segmentDocName(roomId, open), segmentDocName(roomId, open - 1)]];
}

/** Reads `rooms` on one socket, ROOMS_IN_FLIGHT at a time, each in the SDK's order. */
async function readRooms(reader: MuxReader, rooms: readonly string[], seed: SeededHistory): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let roomId = rooms[next++]; roomId !== undefined; roomId = rooms[next++]) {
      for (const documents of readingOrder(roomId, seed)) await reader.sync(documents);
    }
  };
  await Promise.all(Array.from({ length: ROOMS_IN_FLIGHT }, worker));
}

/** Every reader on every room: a socket per ROOMS_PER_SOCKET rooms; resolves once every document is synced. */
async function openReaders(server: RunningPeer, tokens: readonly string[], roomIds: readonly string[], seed: SeededHistory): Promise<MuxReader[]> {
  const clocks = new UpdateClocks();
  const sockets: { reader: MuxReader; rooms: readonly string[] }[] = [];
  try {
    for (const [r, token] of tokens.entries()) {
      for (let from = 0; from < roomIds.length; from += ROOMS_PER_SOCKET) {
        const reader = await MuxReader.open(server.httpUrl, token, `reader ${r}, socket ${from / ROOMS_PER_SOCKET}`, clocks);
        sockets.push({ reader, rooms: roomIds.slice(from, from + ROOMS_PER_SOCKET) });
      }
    }
    await Promise.race([Promise.all(sockets.map((s) => readRooms(s.reader, s.rooms, seed))), server.died]);
    return sockets.map((s) => s.reader);
  } catch (error) {
    await closeAll(sockets.map((s) => s.reader));
    throw error;
  }
}

const closeAll = (sockets: readonly MuxReader[]): Promise<void> => Promise.all(sockets.map((s) => s.close())).then(() => undefined);

/** Tokens for READERS users (not created anywhere: members may be added before they sign in). */
async function readerTokens(): Promise<{ userIds: string[]; tokens: string[] }> {
  const service = new TokenService(BENCH_SECRET);
  const userIds = Array.from({ length: READERS }, () => randomUUID());
  const tokens = await Promise.all(userIds.map((id, i) => service.sign({ id, name: `reader ${i}` }, 24 * 3600)));
  return { userIds, tokens };
}

/** Fails before anything is written when the disk cannot hold the seeded rooms. */
function checkDiskSpace(dir: string, sizes: Sizes): void {
  const needed = sizes.rooms * sizes.messages * STORED_BYTES_PER_MESSAGE + DISK_MARGIN_BYTES;
  const { bavail, bsize } = statfsSync(dir);
  const free = bavail * bsize;
  if (free < needed) {
    throw new Error(
      `${sizes.rooms} rooms of ${sizes.messages.toLocaleString('en-US')} messages need about ${(needed / GB).toFixed(0)} GB in ${dir} (the history, ~${STORED_BYTES_PER_MESSAGE} B/message, and ${(DISK_MARGIN_BYTES / GB).toFixed(0)} GB of margin); only ${(free / GB).toFixed(1)} GB are free`,
    );
  }
}

interface Measured {
  readonly seed: SeededHistory;
  readonly started: Probe;
  readonly synced: Probe;
  readonly unloaded: Probe;
  readonly openMs: number;
  readonly sockets: number;
  readonly receivedBytes: number;
  readonly idleMs: number;
}

/** What the run sets that the server would not have by default (named in the figures). */
function serverEnv(sizes: Sizes): Record<string, string> {
  const env: Record<string, string> = {};
  if (sizes.roomIdleMs !== undefined) env.PARLEY_ROOM_IDLE_MS = String(sizes.roomIdleMs);
  if (sizes.serverHeapMiB !== undefined) env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --max-old-space-size=${sizes.serverHeapMiB}`.trim();
  return env;
}

async function measure(sizes: Sizes): Promise<Measured> {
  const tmp = tempDir('parley-bench-many-large-rooms-');
  const start = (): Promise<RunningPeer> => startPeer('parley', { dataDir: tmp.dir, secret: BENCH_SECRET, env: serverEnv(sizes) });
  let server: RunningPeer | null = null;
  try {
    checkDiskSpace(tmp.dir, sizes);
    const readers = await readerTokens();
    server = await start();
    const prepared = await prepareRooms(server, sizes.rooms, 1, [...readers.userIds, SEED_AUTHOR.userId]);
    const roomIds = prepared.map((room) => room.roomId);
    const exit = await server.stop();
    if (exit !== 0) throw new Error(`parley did not stop cleanly (${exit})`);
    const seed = seedRoomsInSegments(tmp.dir, roomIds, SEED_AUTHOR.userId, sizes.messages);

    server = await start();
    const started = await server.probe({ gc: true, timeoutMs: PROBE_TIMEOUT_MS });
    const opening = performance.now();
    const sockets = await openReaders(server, readers.tokens, roomIds, seed);
    const openMs = performance.now() - opening;
    const synced = await server.probe({ gc: true, timeoutMs: PROBE_TIMEOUT_MS });
    const receivedBytes = sockets.reduce((sum, s) => sum + s.receivedBytes, 0);
    await closeAll(sockets);
    // No event says a room unloaded: wait out a segment's idle time, then its head's.
    const idleMs = sizes.roomIdleMs ?? DEFAULT_ROOM_IDLE_MS;
    await Promise.race([sleep(2 * idleMs + UNLOAD_MARGIN_MS), server.died]);
    const unloaded = await server.probe({ gc: true, timeoutMs: PROBE_TIMEOUT_MS });
    return { seed, started, synced, unloaded, openMs, sockets: sockets.length, receivedBytes, idleMs };
  } catch (error) {
    throw withLogTail(error, 'parley', tmp.dir);
  } finally {
    await server?.stop();
    tmp.remove();
  }
}

function figures(m: Measured, sizes: Sizes): Figure[] {
  const shape = `${sizes.rooms.toLocaleString('en-US')} rooms × ${sizes.messages.toLocaleString('en-US')} messages, ${READERS} readers`;
  const documents = sizes.rooms * DOCS_PER_ROOM;
  const added = m.synced.heapUsedBytes - m.started.heapUsedBytes;
  const wholeDocs = sizes.rooms * sizes.messages * WHOLE_DOC_BYTES_PER_MSG;
  const stored = (m.seed.storedBytes * sizes.rooms) / GB;
  const idle = sizes.roomIdleMs === undefined ? `PARLEY_ROOM_IDLE_MS default (${m.idleMs / 1000} s)` : `PARLEY_ROOM_IDLE_MS=${m.idleMs} (default ${DEFAULT_ROOM_IDLE_MS}), so the run stays short`;
  const heapLimit =
    sizes.serverHeapMiB === undefined ? '' : `; server run with NODE_OPTIONS=--max-old-space-size=${sizes.serverHeapMiB}: Node's default heap limit (~4 GiB here) is below what the rooms need`;
  return [
    { metric: 'server heap, just started', value: m.started.heapUsedBytes / MiB, unit: 'MiB', note: `main thread, after gc; ${shape}; ${stored.toFixed(1)} GB of history in SQLite`, better: 'lower' },
    {
      metric: 'server heap, every reader synced on every room',
      value: m.synced.heapUsedBytes / MiB,
      unit: 'MiB',
      note: `after gc; ${shape}; ${documents.toLocaleString('en-US')} documents open (head, open segment, newest sealed of each room), ${(READERS * documents).toLocaleString('en-US')} channels on ${m.sockets} sockets${heapLimit}`,
      better: 'lower',
    },
    { metric: 'server heap per room read', value: added / sizes.rooms / MiB, unit: 'MiB', note: `(synced - just started) / ${sizes.rooms} rooms`, better: 'lower' },
    {
      metric: 'server heap per open document',
      value: added / documents / 1024,
      unit: 'KiB',
      note: `the same over ${documents.toLocaleString('en-US')} documents: a head (5,000 tombstones), an empty open segment, a sealed segment of ${SEGMENT_MAX_MESSAGES.toLocaleString('en-US')} messages (${(m.seed.segmentBytes / MiB).toFixed(2)} MiB stored; read from storage, not loaded)`,
      better: 'lower',
    },
    {
      metric: 'server RSS, every reader synced on every room',
      value: m.synced.rssBytes / MiB,
      unit: 'MiB',
      note: `the process, storage worker included; ${(m.started.rssBytes / MiB).toFixed(0)} MiB just started; peak ${(m.synced.peakRssBytes / MiB).toFixed(0)} MiB${heapLimit}`,
      better: 'lower',
    },
    {
      metric: 'heap a whole-document server would hold',
      value: wholeDocs / MiB,
      unit: 'MiB',
      note: `for comparison: every room as one Y.Doc of ${sizes.messages.toLocaleString('en-US')} messages at ~${WHOLE_DOC_BYTES_PER_MSG} B/msg (roomDocQueries); ${(wholeDocs / Math.max(added, 1)).toFixed(0)}× what the readers added here`,
    },
    { metric: 'time to seed every room', value: m.seed.seedMs / 1000, unit: 's', note: `${m.seed.segments + 1} documents per room encoded once, ${stored.toFixed(1)} GB written into the stopped server's SQLite`, better: 'lower' },
    {
      metric: 'time to open every room for every reader',
      value: m.openMs / 1000,
      unit: 's',
      note: `from the first socket to the last document synced; each document loaded from SQLite by its first reader; ${(m.receivedBytes / READERS / MiB).toFixed(0)} MiB received per reader`,
      better: 'lower',
    },
    {
      metric: 'server heap after the readers left and idle rooms unloaded',
      value: m.unloaded.heapUsedBytes / MiB,
      unit: 'MiB',
      note: `after gc, ${((2 * m.idleMs + UNLOAD_MARGIN_MS) / 1000).toFixed(0)} s after the last reader closed (a segment unloads after the idle time, then its head); ${idle}`,
      better: 'lower',
    },
  ];
}

const manyLargeRooms: Scenario = {
  name: 'manyLargeRooms',
  description: `Server child: ${FULL.rooms.toLocaleString('en-US')} rooms of ${FULL.messages.toLocaleString('en-US')} messages in segments (quick: ${QUICK.rooms} rooms), ${READERS} readers each holding every room's head, open segment and newest sealed segment over multiplexed sockets: server heap and RSS, per room and per open document, against a whole-document server`,
  async run({ quick }: RunOptions): Promise<Figure[]> {
    const sizes = quick ? QUICK : FULL;
    return figures(await measure(sizes), sizes);
  },
};

export default manyLargeRooms;
