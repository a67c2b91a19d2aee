import { formatValue } from './format.ts';
import type { Figure } from './scenario.ts';

/*
 * Issue 5's targets, judged against a run's figures. `why` is the analysis of the miss, written
 * from the validation runs (bench/RESULTS.md shows it only while the target is missed); revise it
 * when the code or the figures change.
 */

export interface TargetOutcome {
  readonly status: 'met' | 'missed' | 'not measured';
  readonly parley: string;
  readonly against: string;
  readonly ratio: string;
  readonly detail: string;
}

export interface Target {
  readonly title: string;
  readonly why: string;
  readonly evaluate: (figures: ReadonlyMap<string, readonly Figure[]>) => TargetOutcome;
}

const find = (figures: ReadonlyMap<string, readonly Figure[]>, scenario: string, metric: RegExp, peer: string): Figure | undefined =>
  figures.get(scenario)?.find((f) => f.peer === peer && metric.test(f.metric) && Number.isFinite(f.value));

const show = (f: Figure | undefined): string => (f ? `${formatValue(f.value)} ${f.unit}` : '–');
const notMeasured = (detail: string): TargetOutcome => ({ status: 'not measured', parley: '–', against: '–', ratio: '–', detail });

/** Parley's figure against each peer's, times `factor`: met when Parley is on the right side of every one. */
function compare(
  figures: ReadonlyMap<string, readonly Figure[]>,
  scenario: string,
  metric: RegExp,
  peers: readonly string[],
  factor: number,
  better: 'lower' | 'higher',
): TargetOutcome {
  const parley = find(figures, scenario, metric, 'parley');
  if (!parley) return notMeasured(`no Parley figure in ${scenario}`);
  const against = peers.map((p) => ({ peer: p, f: find(figures, scenario, metric, p) })).filter((x) => x.f !== undefined);
  if (against.length === 0) return notMeasured(`no figure for ${peers.join(', ')}`);
  const misses: string[] = [];
  const ratios: string[] = [];
  for (const { peer, f } of against) {
    if (!f) continue;
    const bound = f.value * factor;
    const r = f.value === 0 ? Number.NaN : parley.value / f.value;
    ratios.push(`${Number.isFinite(r) ? r.toFixed(2) : '–'}× ${peer}`);
    const ok = better === 'lower' ? parley.value <= bound : parley.value >= bound;
    if (!ok) {
      const off = better === 'lower' ? parley.value / bound : bound / parley.value;
      misses.push(`${off.toFixed(2)}× past the bound set by ${peer} (${show(f)}${factor === 1 ? '' : ` × ${factor}`})`);
    }
  }
  return {
    status: misses.length === 0 ? 'met' : 'missed',
    parley: show(parley),
    against: against.map((x) => `${x.peer} ${show(x.f)}`).join(', '),
    ratio: ratios.join(', '),
    detail: misses.join('; '),
  };
}

function absolute(f: Figure | undefined, bound: number, unit: string, what: string): TargetOutcome {
  if (!f) return notMeasured(`no ${what} figure`);
  const ok = f.value < bound;
  return {
    status: ok ? 'met' : 'missed',
    parley: show(f),
    against: `bound ${bound} ${unit}`,
    ratio: `${(f.value / bound).toFixed(2)}× the bound`,
    detail: ok ? '' : `${(f.value / bound).toFixed(2)}× the bound`,
  };
}

/** Many rooms: when every server compared reached the top of the ramp, the ramp did not find the limit. */
function sustained(figures: ReadonlyMap<string, readonly Figure[]>, peers: readonly string[], factor: number): TargetOutcome {
  const outcome = compare(figures, 'peerManyRooms', SUSTAINED, peers, factor, 'higher');
  const topped = (peer: string): boolean => find(figures, 'peerManyRooms', SUSTAINED, peer)?.note?.startsWith('top of the ramp') ?? false;
  if (topped('parley') && peers.every(topped)) {
    const detail = 'every server compared reached the top of the ramp: the run found no limit (the full run ramps higher)';
    return { ...outcome, status: outcome.status === 'missed' ? 'not measured' : outcome.status, detail };
  }
  return outcome;
}

const P99_N100 = /^N=100: latency p99$/;
const SUSTAINED = /: sustained msg\/s/;

export const TARGETS: readonly Target[] = [
  {
    title: 'Fan-out p99 at N = 100 within 1.5× the raw ws relay',
    why:
      'Parley does more per update than a byte forwarder: it decodes and validates the update, applies it, waits for the group commit at the end of the event-loop turn (setImmediate) and a SQLite transaction, and only then relays it. In the validation runs that costs about 0.3 ms at p50 (0.58 against 0.23 ms at N = 10) and 4 to 5 times the relay\'s CPU per message.',
    evaluate: (f) => compare(f, 'peerFanout', P99_N100, ['raw-ws'], 1.5, 'lower'),
  },
  {
    title: 'Fan-out p99 at N = 100 at most the reference relay and Hocuspocus',
    why:
      'The relays send an update to the room in the turn it arrives; Parley validates it, applies it, and relays it only after the group commit that closes the turn (one SQLite transaction for every update of the turn, then relay, then ack). That is the price of "relay only what is committed", and it shows as about 0.3 ms more at p50 at every N and as 2 to 4 times the relays\' server CPU per message at N = 10 to 100, which is what pushes p99 past theirs. On a shared 2-core machine p99 at these sizes moves by 1 to 3 ms from run to run: read the ratio from a quiet full run.',
    evaluate: (f) => compare(f, 'peerFanout', P99_N100, ['y-relay', 'y-relay-leveldb', 'hocuspocus'], 1, 'lower'),
  },
  {
    title: 'Many rooms: sustained msg/s at least the reference relay with persistence',
    why:
      'Not CPU on average: in the validation runs Parley stopped at 2,000 to 3,000 msg/s with 0.4 to 0.6 cores busy, while its event loop stalled up to about 190 ms during the failing step (the relay with y-leveldb: 66 ms at the same rate; see "server loop delay max" in the ramp notes). Something synchronous and long blocks the loop from time to time. Compaction is not it (the same ramp with PARLEY_COMPACT_UPDATES=1000000 failed at the same step); candidates not yet separated: SQLite WAL checkpoints, which run (and sync) inside the committing main-thread transaction, the room summary written back on every commit, and major GC of the larger heap. Next step: profile one 4,000/s step (NODE_OPTIONS=--cpu-prof or --trace-gc reach the server child, and the load generator too). The runs also vary by about 2x on this shared machine (y-websocket-server reached 4,000 and 8,000 in two runs).',
    evaluate: (f) => sustained(f, ['y-relay-leveldb'], 1),
  },
  {
    title: 'Many rooms: sustained msg/s at least 2× Hocuspocus',
    why: 'Same event-loop stalls as the line above; Hocuspocus itself passes 100 ms at 2,000 to 3,000 msg/s (its debounced whole-document stores).',
    evaluate: (f) => sustained(f, ['hocuspocus'], 2),
  },
  {
    title: 'Presence, 500 clients at 1 Hz: under half a core',
    why:
      'Most of the cost is the fan-out itself: every awareness update goes to all 500 connections as its own frame, 250,000 WebSocket frames a second, and even the raw relay, which decodes nothing, spent 0.77 to 0.80 cores on it; the reference relay used 0.94 to 0.97. Parley used 0.87 to 0.96 and, in the second full run, its event loop was saturated (delay p99 117 ms), so its per-entry checks and re-encoding do add to it. Half a core needs fewer frames: relay awareness in batches, one frame per connection per window (say 50 to 100 ms) carrying every entry that changed in it, which cuts the frames 25 to 50 times at 1 Hz.',
    evaluate: (f) => {
      const cpu = f.get('peerPresence')?.find((x) => x.peer === 'parley' && /^\d+ clients: server CPU$/.test(x.metric) && Number.isFinite(x.value));
      if (cpu && !cpu.metric.startsWith('500 ')) return notMeasured(`run with 500 clients (--full); this run: ${cpu.metric.split(':')[0]}, ${show(cpu)}`);
      return absolute(cpu, 0.5, 'cores', 'presence CPU');
    },
  },
  {
    title: 'Acknowledgement p99 under 10 ms on loopback (synchronous=FULL, the default)',
    why: 'An ack waits for the group commit at the end of the event-loop turn, the SQLite transaction and its fsync; a p99 over 10 ms means the event loop was busy (other rooms, GC), the disk was slow to sync, or the machine was shared.',
    evaluate: (f) => absolute(find(f, 'durability', /^synchronous=FULL: ack latency p99$/, 'parley'), 10, 'ms', 'ack p99'),
  },
  {
    title: 'Bytes stored per message within 1.2× the Yjs encoded size (after a clean shutdown, compacted)',
    why: 'A compacted snapshot is Y.encodeStateAsUpdate of the room: it can only miss if compaction failed.',
    evaluate: (f) => absolute(find(f, 'peerFanout', /^stored \/ Yjs encoded size, after shutdown$/, 'parley'), 1.2, '×', 'stored bytes'),
  },
  {
    title: 'Bytes stored per message within 1.2× the Yjs encoded size (live room, log not yet compacted)',
    why: 'Until a room is compacted (PARLEY_COMPACT_UPDATES = 500 updates, 1 MiB, or unload) its log keeps every update as sent, each with its own header (client id, clock, parent, key) and one row per update. Compacting earlier, or by bytes of overhead rather than count, bounds it; the snapshot itself is 1.0×.',
    evaluate: (f) => absolute(find(f, 'peerFanout', /^stored \/ Yjs encoded size, live$/, 'parley'), 1.2, '×', 'live stored bytes'),
  },
];

export function judge(target: Target, figures: ReadonlyMap<string, readonly Figure[]>): TargetOutcome {
  return target.evaluate(figures);
}
