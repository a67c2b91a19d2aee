import { OpenLoopWriter, type WindowOptions, type WindowResult, commitFigures } from '../load/openLoopWriter.ts';
import { tempDir } from '../load/peerRun.ts';
import { pinLoad, startPeer } from '../load/peerServer.ts';
import { BENCH_SECRET } from '../load/rooms.ts';
import { Session } from '../load/session.ts';
import { SEGMENT_MAX_MESSAGES } from '../../shared/roomDoc/segments.ts';
import type { Figure, RunOptions, Scenario } from '../scenario.ts';
import { median, quantile } from '../stats.ts';
import { PARLEY_UNLIMITED } from './peerFanout.ts';

/*
 * A small room's fan-out while a busy room on the same process reaches SEGMENT_MAX_MESSAGES and
 * is converted into segments (issue 16: a room's size must not cost its neighbours; the server
 * moves its messages into segment documents at that moment, while the room is in use). One Parley
 * server (defaults, the rate limit lifted as in the other fan-out scenarios), warmed up first by
 * one untimed window in a room of its own. A busy room (a writer at 200 messages/s, one observer)
 * and a small room (a writer at 200/s, 10 observers) run side by side:
 *   - baseline: the busy room writes its messages 0 to 2,200, the small room is timed;
 *   - the busy room is filled (untimed) to 4,400 messages;
 *   - crossing: the busy room writes 4,400 to 6,600, crossing 5,000 (and converting) three seconds
 *     in, and a new small room is timed (a fresh one, so that no small room converts itself).
 * Figures: the small room's p99 in each window and their ratio (target ≤ 1.2, as for the large
 * room's neighbours), and the server's event-loop delay max.
 */

const WINDOW = { warmup: 200, timed: 2_000 };
const RATE_PER_SECOND = 200;
const FILL_RATE_PER_SECOND = 1_000;
const OBSERVERS = 10;
const SETTLE_MS = 1_000;
const QUICK = { repetitions: 1 };
const FULL = { repetitions: 3 };
const content = (i: number): string => `message ${i} of the room conversion benchmark `.padEnd(80, '.');

interface Run {
  readonly baseline: WindowResult;
  readonly crossing: WindowResult;
}

async function once(): Promise<Run> {
  const tmp = tempDir('parley-bench-conversion-');
  const server = await startPeer('parley', { dataDir: tmp.dir, env: PARLEY_UNLIMITED, secret: BENCH_SECRET });
  const session = new Session(server);
  try {
    const small: WindowOptions = { warmup: WINDOW.warmup, messages: WINDOW.timed, ratePerSecond: RATE_PER_SECOND, content };
    // The busy room's window lasts as long as the small room's, all of it counted as its own load.
    const busyWindow = (ratePerSecond: number): WindowOptions => ({ warmup: 0, messages: WINDOW.warmup + WINDOW.timed, ratePerSecond, content });
    await OpenLoopWriter.warmUp(server, session, OBSERVERS, SETTLE_MS, small);
    const busy = await OpenLoopWriter.open(server, session, 1, SETTLE_MS);
    // A small room opened (synced and settled) before its window, both windows started together.
    const beside = async (): Promise<WindowResult> => {
      const side = await OpenLoopWriter.open(server, session, OBSERVERS, SETTLE_MS);
      const [result] = await Promise.all([side.window(small), busy.window(busyWindow(RATE_PER_SECOND))]);
      return result;
    };
    const baseline = await beside();
    await busy.window(busyWindow(FILL_RATE_PER_SECOND));
    const crossing = await beside();
    return { baseline, crossing };
  } finally {
    await session.closeAll();
    await server.stop();
    tmp.remove();
  }
}

const scenario: Scenario = {
  name: 'roomConversion',
  description: `A small room's fan-out (1 writer at ${RATE_PER_SECOND}/s open loop, ${OBSERVERS} observers) while a busy room on the same process (200 msg/s) reaches ${SEGMENT_MAX_MESSAGES.toLocaleString('en-US')} messages and is converted into segments, against the same load with the busy room far from the threshold`,
  async run(opts: RunOptions): Promise<Figure[]> {
    pinLoad();
    const sizes = opts.quick ? QUICK : FULL;
    const runs: Run[] = [];
    for (let r = 0; r < sizes.repetitions; r++) runs.push(await once());
    const p99 = (w: WindowResult): number => quantile(w.latencies, 0.99);
    const of = (pick: (run: Run) => number): number => median(runs.map(pick));
    const ratios = runs.map((run) => p99(run.crossing) / p99(run.baseline));
    const note = `${WINDOW.timed} small-room msgs at ${RATE_PER_SECOND}/s after ${WINDOW.warmup} warm-up, the server warmed up first; the busy room at ${RATE_PER_SECOND}/s; defaults but PARLEY_RATE_PER_SEC/BURST lifted; median of ${runs.length}`;
    return [
      { metric: 'busy room far from the threshold: small-room latency p99', value: of((run) => p99(run.baseline)), unit: 'ms', note, better: 'lower' },
      { metric: 'busy room converting: small-room latency p99', value: of((run) => p99(run.crossing)), unit: 'ms', note: `the busy room crosses ${SEGMENT_MAX_MESSAGES.toLocaleString('en-US')} messages about 3 s into the window`, better: 'lower' },
      { metric: 'converting / far: small-room p99', value: median(ratios), unit: '×', note: `target ≤ 1.2; runs: ${ratios.map((r) => r.toFixed(2)).join(', ')}`, better: 'lower' },
      { metric: 'busy room converting: event-loop delay max', value: of((run) => run.crossing.loopDelayMaxMs), unit: 'ms', note: `far from the threshold: ${of((run) => run.baseline.loopDelayMaxMs).toFixed(1)} ms`, better: 'lower' },
      ...commitFigures({ base: 'busy room far from the threshold', other: 'busy room converting' }, runs.map((r) => r.baseline), runs.map((r) => r.crossing)),
    ];
  },
};

export default scenario;
