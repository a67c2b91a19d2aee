import { z } from 'zod';
import { BackgroundJoiners, type Joiner } from '../load/backgroundJoiners.ts';
import { BytePump, PUMP_PLACES } from '../load/bytePump.ts';
import { OpenLoopWriter, type WindowResult, commitFigures } from '../load/openLoopWriter.ts';
import { tempDir, withLogTail } from '../load/peerRun.ts';
import { type RunningPeer, pinLoad, startPeer } from '../load/peerServer.ts';
import { BENCH_SECRET, type Member, prepareRooms } from '../load/rooms.ts';
import { SEED_AUTHOR } from '../load/seed.ts';
import { type SeededHistory, seedHistoryInSegments } from '../load/segmentedRoom.ts';
import { Session } from '../load/session.ts';
import { segmentDocName } from '../../shared/roomDoc/segments.ts';
import type { Figure, RunOptions, Scenario } from '../scenario.ts';
import { median, quantile } from '../stats.ts';
import { PARLEY_UNLIMITED } from './peerFanout.ts';

/*
 * A small room's fan-out next to a large room being read (issue 16: within 1.2x of the same
 * figure with no large room read). One Parley server (defaults, the rate limit lifted as in the
 * other fan-out scenarios) holds a room of 1,000,000 messages in segments (quick: 200,000; written
 * into its SQLite by bench/load/segmentedRoom.ts before it starts). A small room (1 writer at
 * 200 updates/s open loop, 10 observers) is timed twice on the same server:
 *   - baseline: the large room at rest in storage, nobody reading it;
 *   - large room read: one second into the window, 10 readers open its head, then page back
 *     through its segments, newest first, each segment opened by all 10 at once (each a socket of
 *     its own, as stock y-websocket clients read segments); every segment is loaded cold from
 *     SQLite, encoded and sent 10 times, until the window ends.
 * Before both, the fresh server is warmed up by one untimed window in another room
 * (OpenLoopWriter.warmUp), so the baseline is not also the cold one.
 * The readers run in a child process at the lowest CPU priority (bench/load/backgroundJoiners.ts).
 */

const QUICK = { history: 200_000, warmup: 200, messages: 1_200, repetitions: 1 };
const FULL = { history: 1_000_000, warmup: 200, messages: 2_000, repetitions: 3 };
type Sizes = typeof QUICK;
const OBSERVERS = 10;
/** Readers of the large room; LRN_READERS=n for a diagnostic run (a figure's cost per reader or per segment), never for a record. */
const READERS = z.coerce.number().int().min(1).max(1_000).default(10).parse(process.env.LRN_READERS);
/**
 * LRN_CONTROL=server|server-low|client, a control run: the readers are sent the same bytes by
 * bench/load/bytePump.ts (placed as named there) instead of Parley, which serves the small room
 * alone. Its figures say so in their notes.
 */
const CONTROL = z.enum(PUMP_PLACES).optional().parse(process.env.LRN_CONTROL);
const RATE_PER_SECOND = 200;
const SETTLE_MS = 1_000;
/** The reading starts this many timed messages into the window (one second). */
const DISTURB_AT = RATE_PER_SECOND;
/** Segments each reader opens at most (a socket each; a user may hold 50). */
const MAX_SEGMENTS_READ = 45;
const content = (i: number): string => `message ${i} of the large-room neighbour benchmark `.padEnd(80, '.');

interface Run {
  readonly baseline: WindowResult;
  readonly read: WindowResult;
  readonly segmentsRead: number;
}

async function once(server: RunningPeer, roomId: string, readers: readonly Member[], seed: SeededHistory, sizes: Sizes): Promise<Run> {
  const session = new Session(server);
  const background = new BackgroundJoiners();
  const pump = CONTROL ? new BytePump(CONTROL) : null;
  try {
    const windowOptions = { warmup: sizes.warmup, messages: sizes.messages, ratePerSecond: RATE_PER_SECOND, content };
    // The fresh server warmed up first, in a room of its own, so the baseline is not also "cold".
    await OpenLoopWriter.warmUp(server, session, OBSERVERS, SETTLE_MS, windowOptions);
    const small = await OpenLoopWriter.open(server, session, OBSERVERS, SETTLE_MS);
    const window = (beforeTimed?: (i: number) => void): Promise<WindowResult> => small.window({ ...windowOptions, ...(beforeTimed ? { beforeTimed } : {}) });
    const baseline = await window();

    const joiners = async (docName: string, bytes: number): Promise<Joiner[]> => {
      const pumped = pump ? await pump.url(bytes) : null;
      return readers.map((member, i) => ({
        ...server.endpoint(docName, member.token),
        ...(pumped ? { url: pumped } : {}),
        protocol: server.traits.protocol,
        token: member.token,
        label: `reader ${i} of ${docName}`,
      }));
    };
    let reading = true;
    let segmentsRead = 0;
    let loop: Promise<void> = Promise.resolve();
    const read = async (): Promise<void> => {
      await background.join(await joiners(roomId, seed.headBytes), seed.headBytes);
      // The open segment is empty (not stored): the newest sealed one first, then older ones.
      for (let n = seed.segments - 1; reading && n >= 0 && segmentsRead < MAX_SEGMENTS_READ; n--) {
        await background.join(await joiners(segmentDocName(roomId, n), seed.segmentBytes), seed.segmentBytes);
        segmentsRead++;
      }
    };
    const readWindow = await window((i) => {
      if (i === DISTURB_AT) loop = read();
    });
    reading = false;
    await session.wait(loop, 'the readers');
    return { baseline, read: readWindow, segmentsRead };
  } finally {
    background.stop();
    pump?.stop();
    await session.closeAll();
  }
}

async function measure(sizes: Sizes): Promise<Run[]> {
  const tmp = tempDir('parley-bench-large-neighbour-');
  const start = (): Promise<RunningPeer> => startPeer('parley', { dataDir: tmp.dir, secret: BENCH_SECRET, env: PARLEY_UNLIMITED });
  let server = await start();
  try {
    const [prepared] = await prepareRooms(server, 1, READERS, [SEED_AUTHOR.userId]);
    if (!prepared || prepared.members.length !== READERS) throw new Error('no large room');
    await server.stop();
    const seed = seedHistoryInSegments(tmp.dir, prepared.roomId, SEED_AUTHOR.userId, sizes.history);
    const runs: Run[] = [];
    for (let r = 0; r < sizes.repetitions; r++) {
      // A fresh server each time: every segment the readers open is loaded cold.
      server = await start();
      runs.push(await once(server, prepared.roomId, prepared.members, seed, sizes));
      await server.stop();
    }
    return runs;
  } catch (error) {
    throw withLogTail(error, 'parley', tmp.dir);
  } finally {
    await server.stop();
    tmp.remove();
  }
}

const scenario: Scenario = {
  name: 'largeRoomNeighbour',
  description: `A small room's fan-out (1 writer at ${RATE_PER_SECOND}/s open loop, ${OBSERVERS} observers) with a 1M-message room (quick: 200k) on the same Parley process at rest, then read by ${READERS} readers paging back through its segments`,
  async run(opts: RunOptions): Promise<Figure[]> {
    pinLoad();
    const sizes = opts.quick ? QUICK : FULL;
    const runs = await measure(sizes);
    const of = (pick: (run: Run) => number): number => median(runs.map(pick));
    const p99 = (w: WindowResult): number => quantile(w.latencies, 0.99);
    const control = CONTROL ? `CONTROL: the readers sent the bytes by a pump placed '${CONTROL}' (bench/load/bytePump.ts), not by Parley; ` : '';
    const note = `${control}${sizes.messages} small-room msgs at ${RATE_PER_SECOND}/s after ${sizes.warmup} warm-up, the server warmed up first by one untimed window in another room; large room ${sizes.history.toLocaleString('en-US')} messages; PARLEY_RATE_PER_SEC/BURST lifted; median of ${runs.length}`;
    return [
      { metric: 'large room at rest: small-room latency p99', value: of((r) => p99(r.baseline)), unit: 'ms', note, better: 'lower' },
      { metric: 'large room read: small-room latency p99', value: of((r) => p99(r.read)), unit: 'ms', note: `${control}${READERS} readers; ${of((r) => r.segmentsRead)} segments read in the window (each loaded cold, sent ${READERS} times)`, better: 'lower' },
      { metric: 'large room read / at rest: small-room p99', value: of((r) => p99(r.read) / p99(r.baseline)), unit: '×', note: `${control}target ≤ 1.2`, better: 'lower' },
      { metric: 'large room read: small-room latency max', value: of((r) => r.read.latencies.reduce((a, b) => Math.max(a, b), 0)), unit: 'ms', note: `at rest: ${of((r) => r.baseline.latencies.reduce((a, b) => Math.max(a, b), 0)).toFixed(1)} ms`, better: 'lower' },
      { metric: 'large room read: load generator lag max', value: of((r) => r.read.generatorLagMaxMs), unit: 'ms', note: `at rest: ${of((r) => r.baseline.generatorLagMaxMs).toFixed(1)} ms; the measuring process's own event-loop delay (its 10 ms timer included), part of every latency it takes`, better: 'lower' },
      { metric: 'large room read: event-loop delay max', value: of((r) => r.read.loopDelayMaxMs), unit: 'ms', note: `at rest: ${of((r) => r.baseline.loopDelayMaxMs).toFixed(1)} ms`, better: 'lower' },
      ...commitFigures({ base: 'large room at rest', other: 'large room read' }, runs.map((r) => r.baseline), runs.map((r) => r.read)),
    ];
  },
};

export default scenario;
