import { join } from 'node:path';
import Database from 'better-sqlite3';
import * as Y from 'yjs';
import { createMessage } from '../../shared/roomDoc/messageOps.ts';
import { OpenLoopWriter, type WindowResult } from '../load/openLoopWriter.ts';
import { pinLoad } from '../load/peerServer.ts';
import type { Member } from '../load/rooms.ts';
import { seedHistory } from '../load/seed.ts';
import { BackgroundJoiners, type Joiner } from '../load/backgroundJoiners.ts';
import { withSeeded } from '../load/seededRoom.ts';
import { Session, sleep } from '../load/session.ts';
import type { Figure, RunOptions, Scenario } from '../scenario.ts';
import { median, quantile } from '../stats.ts';
import { PARLEY_UNLIMITED } from './peerFanout.ts';

/*
 * Noisy neighbour: does a big room hurt a small one on the same process? A small room (1 writer
 * at 200 updates/s open loop, 10 observers; a fresh one per window, after one untimed window in a
 * room of its own warmed the server up) is timed in four windows on one Parley server, with
 * its defaults (the rate limit lifted), while a room of 100,000 messages (quick: 20,000) seeded in
 * its storage is, one second into the window:
 *   - nothing (the baseline),
 *   - loaded cold (one joiner asks for the whole room; the room was never loaded),
 *   - compacted (one message written into it; its log holds the whole history, so the commit
 *     asks for a compaction of the whole room, checked in the database afterwards),
 *   - synced to 20 joiners at once (each asks for the room; since the cold load converted it into
 *     segments, that is its head: docs/protocol.md, "Large rooms").
 * Per case: the small room's latency p99 and max, its ratio to the baseline's p99, the server's
 * event-loop delay p99 and max, and when the disturbance finished. Parley only: the peers keep
 * no per-room work of this kind to compare (their cold load and join storm have their own
 * scenarios, peerColdLoad and peerJoinStorm). The big room's joiners run in a child process at
 * the lowest CPU priority (bench/load/backgroundJoiners.ts), so that receiving hundreds of MB does
 * not stall the load generator that times the small room.
 */

const QUICK = { history: 20_000, warmup: 200, messages: 1_200, repetitions: 1 };
const FULL = { history: 100_000, warmup: 200, messages: 2_000, repetitions: 3 };
type Sizes = typeof QUICK;
const OBSERVERS = 10;
const JOINERS = 20;
const RATE_PER_SECOND = 200;
const SETTLE_MS = 1_000;
/** The disturbance starts this many timed messages into the window (one second). */
const DISTURB_AT = RATE_PER_SECOND;
const CASES = ['baseline', 'cold load', 'compaction', `${JOINERS} joiners at once`] as const;
type Case = (typeof CASES)[number];
const content = (i: number): string => `message ${i} of the noisy-neighbour benchmark `.padEnd(80, '.');

interface CaseRun extends WindowResult {
  /** Milliseconds from the disturbance's start until it was done (0 for the baseline). */
  readonly disturbanceMs: number;
}

async function once(sizes: Sizes): Promise<Map<Case, CaseRun>> {
  const seed = seedHistory(sizes.history);
  // Members of the big room: the cold-load joiner, the compaction's writer, the 20 joiners.
  return withSeeded(
    'parley',
    seed,
    2 + JOINERS,
    async (seeded, dataDir) => {
      const server = seeded.server;
      const session = new Session(server);
      const big = seeded.room;
      const joiner = (member: Member, label: string): Joiner => ({ ...server.endpoint(big.roomId, member.token), protocol: server.traits.protocol, token: member.token, label });
      const background = new BackgroundJoiners();
      const [coldJoiner, compactWriter, ...joiners] = big.members;
      if (!coldJoiner || !compactWriter || joiners.length !== JOINERS) throw new Error('missing members');
      const out = new Map<Case, CaseRun>();
      try {
        const windowOptions = { warmup: sizes.warmup, messages: sizes.messages, ratePerSecond: RATE_PER_SECOND, content };
        // The fresh server warmed up first, in a room of its own, so the baseline is not also "cold".
        await OpenLoopWriter.warmUp(server, session, OBSERVERS, SETTLE_MS, windowOptions);
        const timed = async (name: Case, disturb: () => Promise<unknown>): Promise<void> => {
          let started = 0;
          let finished: Promise<number> = Promise.resolve(0);
          // A small room of its own per case: four windows in one room would take it past 5,000
          // messages, and its own conversion into segments (bench roomConversion) into a window.
          const small = await OpenLoopWriter.open(server, session, OBSERVERS, SETTLE_MS);
          const result = await small.window({
            ...windowOptions,
            beforeTimed: (i) => {
              if (i !== DISTURB_AT || name === 'baseline') return;
              started = performance.now();
              finished = disturb().then(() => performance.now() - started);
            },
          });
          out.set(name, { ...result, disturbanceMs: await session.wait(finished, `${name} of the big room`) });
        };

        await timed('baseline', () => Promise.resolve());
        // The cold joiner stays connected: the room stays loaded for the next cases.
        await timed('cold load', () => background.join([joiner(coldJoiner, 'cold joiner')], seed.update.byteLength));
        // Its step 2 would be the whole room: connected (and not applying it) before the window.
        const writerDoc = new Y.Doc();
        const { url, docName } = server.endpoint(big.roomId, compactWriter.token);
        const writer = session.open({ url, docName, protocol: server.traits.protocol, token: compactWriter.token, label: 'big-room writer', doc: writerDoc, applyRemote: false });
        await session.wait(writer.synced, 'big-room writer sync');
        await timed('compaction', async () => {
          createMessage(writerDoc, compactWriter.actor, { content: 'a message that makes the log long enough to compact' });
          await compacted(join(dataDir, 'parley.db'), big.roomId);
        });
        await timed(`${JOINERS} joiners at once`, () =>
          // The cold load converted the room into segments (it is stored as one document of
          // 100,000 messages): a joiner of `<roomId>` now gets its head, not the whole history, and
          // counts as done once that answer has come and gone quiet.
          background.join(
            joiners.map((member, i) => joiner(member, `joiner ${i}`)),
            1,
          ),
        );
        return out;
      } finally {
        background.stop();
        await session.closeAll();
      }
    },
    PARLEY_UNLIMITED,
  );
}

/** Resolves once the room has a snapshot in the database: the compaction's last step committed. */
async function compacted(file: string, roomId: string): Promise<void> {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const query = db.prepare('SELECT COUNT(*) AS n FROM room_snapshots WHERE room_id = ?');
    for (;;) {
      const row = query.get(roomId) as { n: number } | undefined;
      if (row && row.n > 0) return;
      await sleep(20);
    }
  } finally {
    db.close();
  }
}

const scenario: Scenario = {
  name: 'noisyNeighbour',
  description: `A small room's fan-out (1 writer at ${RATE_PER_SECOND}/s open loop, ${OBSERVERS} observers) while a big room (100,000 messages; quick: 20,000) on the same Parley process is loaded cold, compacted, or synced to ${JOINERS} joiners at once`,
  async run(opts: RunOptions): Promise<Figure[]> {
    pinLoad();
    const sizes = opts.quick ? QUICK : FULL;
    const runs: Map<Case, CaseRun>[] = [];
    for (let r = 0; r < sizes.repetitions; r++) runs.push(await once(sizes));
    const of = (name: Case, pick: (run: CaseRun) => number): number =>
      median(
        runs.map((run) => {
          const found = run.get(name);
          if (!found) throw new Error(`no ${name} run`);
          return pick(found);
        }),
      );
    const p99 = (run: CaseRun): number => quantile(run.latencies, 0.99);
    const baseline = of('baseline', p99);
    const note = `${sizes.messages} small-room msgs at ${RATE_PER_SECOND}/s after ${sizes.warmup} warm-up, big room ${sizes.history.toLocaleString('en-US')} messages, disturbance 1 s into the window; median of ${runs.length}`;
    return CASES.flatMap((name): Figure[] => [
      { metric: `${name}: small-room latency p99`, value: of(name, p99), unit: 'ms', note, better: 'lower' },
      { metric: `${name}: small-room latency max`, value: of(name, (r) => r.latencies.reduce((a, b) => Math.max(a, b), 0)), unit: 'ms', note: `load generator lag max ${of(name, (r) => r.generatorLagMaxMs).toFixed(0)} ms`, better: 'lower' },
      ...(name === 'baseline' ? [] : [{ metric: `${name}: small-room p99 / baseline p99`, value: of(name, p99) / baseline, unit: '×', note: 'target ≤ 1.2', better: 'lower' as const }]),
      { metric: `${name}: event-loop delay p99`, value: of(name, (r) => r.loopDelayP99Ms), unit: 'ms', note: 'beyond the 10 ms sampling interval', better: 'lower' },
      { metric: `${name}: event-loop delay max`, value: of(name, (r) => r.loopDelayMaxMs), unit: 'ms', note: 'timed window; target < 20', better: 'lower' },
      ...(name === 'baseline' ? [] : [{ metric: `${name}: done after`, value: of(name, (r) => r.disturbanceMs), unit: 'ms', note: 'from its start to the last joiner synced, or the snapshot committed', better: 'lower' as const }]),
    ]);
  },
};

export default scenario;
