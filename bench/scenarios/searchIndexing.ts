import { join } from 'node:path';
import * as Y from 'yjs';
import { openDatabase } from '../../server/storage/openDatabase.ts';
import { SqliteUpdateStore } from '../../server/storage/SqliteUpdateStore.ts';
import { openSearchDatabase, searchDbFileOf } from '../../server/search/openSearchDatabase.ts';
import { MessageSearchResultsSchema } from '../../shared/models/messageSearch.ts';
import { createMessage } from '../../shared/roomDoc/messageOps.ts';
import { OpenLoopWriter, type WindowResult } from '../load/openLoopWriter.ts';
import { tempDir } from '../load/peerRun.ts';
import { type RunningPeer, pinLoad, startPeer } from '../load/peerServer.ts';
import { BENCH_SECRET, type PreparedRoom, prepareRooms } from '../load/rooms.ts';
import { Session, sleep } from '../load/session.ts';
import type { Figure, RunOptions, Scenario } from '../scenario.ts';
import { median, quantile } from '../stats.ts';
import { PARLEY_UNLIMITED } from './peerFanout.ts';

/*
 * Search indexing beside live traffic (issue 18): what indexing costs the rooms being served.
 * A database from before search holds ROOMS rooms of MESSAGES messages each, none indexed (written
 * straight into SQLite, as an upgraded database is). Parley starts with its defaults (but the
 * per-connection rate limit, lifted as in the other fan-out scenarios: the writer sends 200
 * messages a second on one connection, the default allows 50), so its
 * search backfill (docs/search.md, "Upgrading") indexes them in the background. Meanwhile a small
 * room (1 writer at 200 messages/s open loop, 10 observers; its own messages indexed live, as
 * always) is timed in one window while the backfill runs, and in one after it finished. Before
 * either, the fresh server is warmed up by one untimed window in another room
 * (OpenLoopWriter.warmUp), as a server that has run a while would be. Figures:
 * the small room's latency p99 in each and their ratio (target ≤ 1.2), event-loop delay, and the
 * backfill's throughput (messages indexed per second, from the server's start until a search
 * finds the last room's messages).
 */

const QUICK = { rooms: 12, messages: 5_000, warmup: 200, timed: 1_200, repetitions: 1 };
const FULL = { rooms: 30, messages: 4_000, warmup: 200, timed: 2_000, repetitions: 3 };
type Sizes = typeof QUICK;
const OBSERVERS = 10;
const RATE_PER_SECOND = 200;
const SETTLE_MS = 1_000;
const content = (i: number): string => `message ${i} of the search indexing benchmark `.padEnd(80, '.');

/** A room's history with a word of its own (`roomword<k>`), so a search can tell when the room is indexed. */
function legacyHistory(k: number, authorId: string, count: number): Uint8Array {
  const doc = new Y.Doc();
  const t0 = Date.now() - 60_000 - count;
  doc.transact(() => {
    for (let i = 0; i < count; i++) {
      createMessage(doc, { userId: authorId, role: 'member' }, { content: `roomword${k} line ${i} about apricots, deploys and the weekly sync`, now: t0 + i });
    }
  });
  const update = Y.encodeStateAsUpdate(doc);
  doc.destroy();
  return update;
}

async function searchFinds(server: RunningPeer, token: string, word: string): Promise<boolean> {
  const res = await fetch(`${server.httpUrl}/api/search?q=${word}&limit=1`, { headers: { authorization: `Bearer ${token}` } });
  if (!res.ok) throw new Error(`search answered ${res.status}`);
  return MessageSearchResultsSchema.parse(await res.json()).results.length > 0;
}

interface Run {
  readonly during: WindowResult;
  readonly after: WindowResult;
  /** Messages indexed per second by the backfill. */
  readonly indexedPerSecond: number;
  readonly backfillMs: number;
  /** Whether the backfill was still running when the first window ended (else the window did not overlap it). */
  readonly overlapped: boolean;
}

async function once(sizes: Sizes): Promise<Run> {
  const tmp = tempDir('parley-bench-indexing-');
  const start = (): Promise<RunningPeer> => startPeer('parley', { dataDir: tmp.dir, env: PARLEY_UNLIMITED, secret: BENCH_SECRET });
  let server = await start();
  let rooms: PreparedRoom[];
  try {
    rooms = await prepareRooms(server, sizes.rooms, 1);
  } finally {
    await server.stop();
  }
  // The database as an upgrade finds it: every room's history stored, none of it in the index.
  const db = openDatabase(join(tmp.dir, 'parley.db'));
  try {
    const store = new SqliteUpdateStore(db);
    rooms.forEach((room, k) => {
      const author = room.members[0];
      if (!author) throw new Error('no member');
      store.append([{ roomId: room.roomId, update: legacyHistory(k, author.userId, sizes.messages) }]);
    });
  } finally {
    db.close();
  }
  const index = openSearchDatabase(searchDbFileOf(join(tmp.dir, 'parley.db')));
  try {
    index.exec('DELETE FROM message_search; DELETE FROM search_rows; DELETE FROM search_indexed;');
  } finally {
    index.close();
  }
  // The backfill walks documents in name order: the last one is indexed last.
  const lastK = rooms.reduce((best, room, k) => (room.roomId > (rooms[best]?.roomId ?? '') ? k : best), 0);
  const last = rooms[lastK]!;
  const startedAt = performance.now();
  server = await start();
  const session = new Session(server);
  try {
    let doneAt = 0;
    const watching = (async () => {
      while (!(await searchFinds(server, last.members[0]!.token, `roomword${lastK}`))) await sleep(100);
      doneAt = performance.now();
    })();
    const windowOptions = { warmup: sizes.warmup, messages: sizes.timed, ratePerSecond: RATE_PER_SECOND, content };
    // The fresh server warmed up first, in a room of its own, so "during" is not also "cold".
    await OpenLoopWriter.warmUp(server, session, OBSERVERS, SETTLE_MS, windowOptions);
    const small = await OpenLoopWriter.open(server, session, OBSERVERS, SETTLE_MS);
    const window = (): Promise<WindowResult> => small.window(windowOptions);
    const during = await window();
    const overlapped = doneAt === 0;
    // At about 1,000 messages a second (SearchBackfill): minutes for the full size.
    await session.wait(watching, 'the backfill to finish', 15 * 60_000);
    const after = await window();
    const backfillMs = doneAt - startedAt;
    return { during, after, backfillMs, indexedPerSecond: (sizes.rooms * sizes.messages) / (backfillMs / 1000), overlapped };
  } finally {
    await session.closeAll();
    await server.stop();
    tmp.remove();
  }
}

const scenario: Scenario = {
  name: 'searchIndexing',
  description: `A small room's fan-out (1 writer at ${RATE_PER_SECOND}/s open loop, ${OBSERVERS} observers) while Parley's search backfill indexes an upgraded database (30 rooms of 4,000 messages; quick: 12 of 5,000), against the same room after it finished`,
  async run(opts: RunOptions): Promise<Figure[]> {
    pinLoad();
    const sizes = opts.quick ? QUICK : FULL;
    const runs: Run[] = [];
    for (let r = 0; r < sizes.repetitions; r++) runs.push(await once(sizes));
    if (runs.some((run) => !run.overlapped)) throw new Error('the backfill finished before the first window ended: the figures would not measure it');
    const p99 = (w: WindowResult): number => quantile(w.latencies, 0.99);
    const of = (pick: (run: Run) => number): number => median(runs.map(pick));
    const ratios = runs.map((run) => p99(run.during) / p99(run.after));
    const note = `${sizes.timed} small-room msgs at ${RATE_PER_SECOND}/s after ${sizes.warmup} warm-up, the server warmed up first by one untimed window in another room; ${sizes.rooms} rooms × ${sizes.messages.toLocaleString('en-US')} messages to index; defaults but PARLEY_RATE_PER_SEC/BURST lifted (the writer sends 200/s on one connection); median of ${runs.length}`;
    return [
      { metric: 'while indexing: small-room latency p99', value: of((run) => p99(run.during)), unit: 'ms', note, better: 'lower' },
      { metric: 'after indexing: small-room latency p99', value: of((run) => p99(run.after)), unit: 'ms', note, better: 'lower' },
      { metric: 'while / after p99', value: median(ratios), unit: '×', note: `target ≤ 1.2; runs: ${ratios.map((r) => r.toFixed(2)).join(', ')}`, better: 'lower' },
      { metric: 'while indexing: event-loop delay max', value: of((run) => run.during.loopDelayMaxMs), unit: 'ms', better: 'lower' },
      { metric: 'after indexing: event-loop delay max', value: of((run) => run.after.loopDelayMaxMs), unit: 'ms', better: 'lower' },
      { metric: 'backfill throughput', value: of((run) => run.indexedPerSecond), unit: 'msgs/s', note: `${(sizes.rooms * sizes.messages).toLocaleString('en-US')} messages, from server start to the last room found`, better: 'higher' },
    ];
  },
};

export default scenario;
