import { OpenLoopWriter, type WindowResult } from '../load/openLoopWriter.ts';
import { eachPeer, selectedPeers, withPeer } from '../load/peerRun.ts';
import { type PeerName, pinLoad } from '../load/peerServer.ts';
import { Session } from '../load/session.ts';
import type { Figure, RunOptions, Scenario } from '../scenario.ts';
import { median, quantile } from '../stats.ts';
import { PARLEY_UNLIMITED } from './peerFanout.ts';

/*
 * Open-loop fan-out, Parley as a user runs it: one writer sends at a fixed rate (200 updates/s)
 * whatever the server does, N stock observers timestamp every update. Latency is measured from
 * each message's scheduled send time, so a stall shows in full (no coordinated omission). Parley
 * runs with its defaults except the per-connection rate limit (lifted, as the peers have none):
 * 2,000 timed updates after a 200-update warm-up (excluded the same way for every server) take
 * 10 s and cross PARLEY_COMPACT_UPDATES (500) at least three times, so compactions fall inside
 * the timed window. Per N and server: latency p50, p99, p99.9 and max (medians over repetitions),
 * server CPU per message, RSS at start and at the end, and the server's event-loop delay p99 and max (from the
 * preloaded probe, bench/peers/probe.mjs).
 */

interface Sizes {
  readonly observers: readonly number[];
  readonly warmup: number;
  readonly messages: number;
  readonly repetitions: number;
}

const QUICK: Sizes = { observers: [10, 100], warmup: 200, messages: 2_000, repetitions: 1 };
const FULL: Sizes = { observers: [10, 100], warmup: 200, messages: 2_000, repetitions: 3 };
const RATE_PER_SECOND = 200;
const SETTLE_MS = 1_000;
const content = (i: number): string => `message ${i} of the open-loop benchmark `.padEnd(80, '.');

interface Run extends WindowResult {
  /** The server's RSS once it listens, before any client. */
  readonly rssAtStartBytes: number;
}

async function once(peer: PeerName, n: number, sizes: Sizes): Promise<Run> {
  const env = peer === 'parley' ? PARLEY_UNLIMITED : {};
  return withPeer(peer, env, async (server) => {
    const session = new Session(server);
    try {
      const { rssBytes: rssAtStartBytes } = await server.usage();
      const writer = await OpenLoopWriter.open(server, session, n, SETTLE_MS);
      return { rssAtStartBytes, ...(await writer.window({ warmup: sizes.warmup, messages: sizes.messages, ratePerSecond: RATE_PER_SECOND, content })) };
    } finally {
      await session.closeAll();
    }
  });
}

const scenario: Scenario = {
  name: 'openLoopFanout',
  description: 'Every server, 1 writer at 200 updates/s open loop + N observers, Parley with its defaults (rate limit lifted): latency p50/p99/p99.9/max, CPU, RSS, event-loop delay',
  async run(opts: RunOptions): Promise<Figure[]> {
    pinLoad();
    const sizes = opts.quick ? QUICK : FULL;
    return eachPeer('openLoopFanout', selectedPeers(opts), async (peer) => {
      const figures: Figure[] = [];
      for (const n of sizes.observers) {
        const runs: Run[] = [];
        for (let r = 0; r < sizes.repetitions; r++) runs.push(await once(peer, n, sizes));
        const of = (pick: (run: Run) => number): number => median(runs.map(pick));
        const at = `N=${n}`;
        const note = `${sizes.messages} msgs at ${RATE_PER_SECOND}/s after ${sizes.warmup} warm-up, median of ${runs.length}; load generator lag max ${of((r) => r.generatorLagMaxMs).toFixed(0)} ms`;
        const latency = (q: number) => of((r) => quantile(r.latencies, q));
        figures.push(
          { metric: `${at}: latency p50`, value: latency(0.5), unit: 'ms', note, peer, better: 'lower' },
          { metric: `${at}: latency p99`, value: latency(0.99), unit: 'ms', note, peer, better: 'lower' },
          { metric: `${at}: latency p99.9`, value: latency(0.999), unit: 'ms', note, peer, better: 'lower' },
          { metric: `${at}: latency max`, value: of((r) => r.latencies.reduce((a, b) => Math.max(a, b), 0)), unit: 'ms', note, peer, better: 'lower' },
          { metric: `${at}: server CPU per message`, value: of((r) => r.cpuMsPerMessage), unit: 'ms', note: 'all threads, timed window', peer, better: 'lower' },
          { metric: `${at}: server RSS at start`, value: of((r) => r.rssAtStartBytes) / 2 ** 20, unit: 'MiB', note: 'listening, before any client', peer, better: 'lower' },
          { metric: `${at}: server RSS at the end`, value: of((r) => r.rssBytes) / 2 ** 20, unit: 'MiB', peer, better: 'lower' },
          { metric: `${at}: event-loop delay p99`, value: of((r) => r.loopDelayP99Ms), unit: 'ms', note: 'beyond the 10 ms sampling interval', peer, better: 'lower' },
          { metric: `${at}: event-loop delay max`, value: of((r) => r.loopDelayMaxMs), unit: 'ms', note: 'timed window', peer, better: 'lower' },
        );
      }
      return figures;
    });
  },
};

export default scenario;
