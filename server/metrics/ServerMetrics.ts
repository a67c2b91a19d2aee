import diagnosticsChannel from 'node:diagnostics_channel';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { COMMIT_CHANNEL, type CommitQueue, type CommitTiming } from '../sync/CommitQueue.ts';

/** What the metrics read, at scrape time, from the server they describe (ParleyServer.ts wires it). */
export interface MetricSources {
  /** This node's name: the `node` label of every series (PARLEY_NODE_ID). */
  nodeId: string;
  /** Open sockets of the sync endpoints, /sync/<roomId> and /ws/sync. */
  syncConnections(): number;
  /** Open sockets of the JSON command endpoint, /ws/commands. */
  commandConnections(): number;
  /** Documents (room heads and segments) loaded in memory. */
  documentsLoaded(): number;
  /** The server's group commit: only its commits count (`parley:commit` is the process's channel). */
  commitQueue: CommitQueue;
  /** One node of several (docs/scale-out.md): its rooms, lease changes, links and forwarded frames. */
  cluster?: ClusterSources;
}

/** Running totals and counts of a node of several, read when scraped. */
export interface ClusterSources {
  roomsOwned(): number;
  /** Rooms this node took (lease, then fence) since it started. */
  leasesTaken(): number;
  /** Rooms this node lost to another (a lease taken, a fence refused) since it started. */
  leasesLost(): number;
  /** Links open to other nodes (this node's edge end). */
  links(): number;
  /** Frames forwarded through the links since it started, both ways. */
  forwardedFrames(): number;
}

/** A counter that follows a running total read at scrape time. */
function totalCounter(name: string, help: string, registers: Registry[], read: () => number): void {
  let seen = 0;
  new Counter({
    name,
    help,
    registers,
    collect() {
      const total = read();
      if (total > seen) this.inc(total - seen);
      seen = total;
    },
  });
}

/** Group commits take from a tenth of a millisecond (no fsync) to a second (a stalled disk). */
const COMMIT_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

/** The event-loop delay monitor's sampling interval (as the benchmarks' probe, bench/peers/probe.mjs). */
const DELAY_RESOLUTION_MS = 10;
/** Event-loop delay is reported over windows of this length, whoever scrapes and how often. */
export const DELAY_WINDOW_MS = 10_000;
/** Quantile label and percentile of the monitor's histogram. */
const DELAY_QUANTILES = [['0.5', 50], ['0.9', 90], ['0.99', 99]] as const;

interface DelayWindow {
  /** Seconds of delay at each of DELAY_QUANTILES, then the maximum (quantile "1"). */
  readonly quantiles: ReadonlyArray<readonly [string, number]>;
}

/**
 * The monitor holds intervals between its timer's runs: the delay is what exceeds the resolution
 * (as bench/peers/probe.mjs reads it, so the figures compare with the README's benchmarks).
 */
function delayWindow(h: IntervalHistogram): DelayWindow {
  const seconds = (ns: number): number => (h.count > 0 && Number.isFinite(ns) ? Math.max(0, ns / 1e9 - DELAY_RESOLUTION_MS / 1000) : 0);
  return { quantiles: [...DELAY_QUANTILES.map(([label, percentile]) => [label, seconds(h.percentile(percentile))] as const), ['1', seconds(h.max)] as const] };
}

/**
 * prom-client's default metrics (process CPU, memory, file descriptors, heap, GC, its own
 * event-loop lag), made once per process: each call of collectDefaultMetrics starts an
 * event-loop monitor and a GC observer that nothing can stop, and a process has one of each
 * anyway, however many servers it runs.
 */
let processMetrics: Registry | null = null;
function processRegistry(): Registry {
  if (!processMetrics) {
    processMetrics = new Registry();
    collectDefaultMetrics({ register: processMetrics });
  }
  return processMetrics;
}

/**
 * This server's metrics in the Prometheus text format (README, "Metrics"), on a registry of its
 * own so that two servers in one process (tests) do not clash. Gauges read the server when
 * scraped; only the group commit's timing arrives as it happens, on `parley:commit`.
 */
export class ServerMetrics {
  /** This server's series and the process's, every one labelled `node`. */
  readonly #registry: Registry;
  readonly #delay: IntervalHistogram;
  readonly #delayTimer: NodeJS.Timeout;
  #lastDelayWindow: DelayWindow | null = null;
  readonly #onCommit: (message: unknown) => void;
  #closed = false;

  constructor(sources: MetricSources) {
    const own = new Registry();
    const registers = [own];
    new Gauge({
      name: 'parley_connections',
      help: 'Open sync WebSocket connections on this node (/sync/<room> and multiplexed /ws/sync sockets).',
      registers,
      collect() {
        this.set(sources.syncConnections());
      },
    });
    new Gauge({
      name: 'parley_command_connections',
      help: 'Open JSON command WebSocket connections on this node (/ws/commands).',
      registers,
      collect() {
        this.set(sources.commandConnections());
      },
    });
    new Gauge({
      name: 'parley_documents_loaded',
      help: 'Documents (room heads and segments) this node owns: loaded in its memory, where every write to them is validated and committed (a node owns each document it loads).',
      registers,
      collect() {
        this.set(sources.documentsLoaded());
      },
    });
    const cluster = sources.cluster;
    if (cluster) {
      new Gauge({ name: 'parley_rooms_owned', help: 'Rooms this node owns (holds the lease and a current fence of): it loads, validates, commits and relays them.', registers, collect() { this.set(cluster.roomsOwned()); } });
      new Gauge({ name: 'parley_node_links', help: 'Links open from this node to other nodes (/ws/internal), over which it forwards channels of rooms they own.', registers, collect() { this.set(cluster.links()); } });
      totalCounter('parley_leases_taken_total', 'Rooms this node took over (lease, then fencing token) since it started.', registers, () => cluster.leasesTaken());
      totalCounter('parley_leases_lost_total', 'Rooms this node lost to another node (lease taken, or a commit refused by the fence) since it started.', registers, () => cluster.leasesLost());
      totalCounter('parley_forwarded_frames_total', 'Frames this node forwarded between its clients and rooms owned by other nodes, both ways.', registers, () => cluster.forwardedFrames());
    }
    const commits = new Counter({ name: 'parley_commits_total', help: 'Group commits (one storage transaction each) by outcome: ok, or failed (nothing in it acknowledged).', labelNames: ['outcome'] as const, registers });
    const updates = new Counter({ name: 'parley_committed_updates_total', help: 'Document updates written by successful group commits.', registers });
    const duration = new Histogram({ name: 'parley_commit_duration_seconds', help: 'Time one group commit took: with SQLite, on the main thread, its fsync included; with an asynchronous store, until the database answered.', buckets: COMMIT_BUCKETS, registers });
    // Both outcomes are shown from the start, so a rate of failures reads 0 rather than nothing.
    commits.inc({ outcome: 'ok' }, 0);
    commits.inc({ outcome: 'failed' }, 0);

    this.#delay = monitorEventLoopDelay({ resolution: DELAY_RESOLUTION_MS });
    this.#delay.enable();
    this.#delayTimer = setInterval(() => {
      this.#lastDelayWindow = delayWindow(this.#delay);
      this.#delay.reset();
    }, DELAY_WINDOW_MS);
    this.#delayTimer.unref();
    const delayOf = (): DelayWindow => this.#lastDelayWindow ?? delayWindow(this.#delay);
    new Gauge({
      name: 'parley_event_loop_delay_seconds',
      help: `Event-loop delay over the last complete ${DELAY_WINDOW_MS / 1000} s window (since start before the first), beyond the ${DELAY_RESOLUTION_MS} ms sampling interval, at quantiles 0.5, 0.9, 0.99 and 1 (the maximum).`,
      labelNames: ['quantile'] as const,
      registers,
      collect() {
        for (const [quantile, seconds] of delayOf().quantiles) this.set({ quantile }, seconds);
      },
    });

    this.#onCommit = (message) => {
      const timing = message as CommitTiming;
      if (timing.queue !== sources.commitQueue) return;
      commits.inc({ outcome: timing.ok ? 'ok' : 'failed' });
      if (timing.ok) updates.inc(timing.updates);
      duration.observe(timing.ms / 1000);
    };
    diagnosticsChannel.subscribe(COMMIT_CHANNEL, this.#onCommit);

    this.#registry = Registry.merge([own, processRegistry()]);
    this.#registry.setDefaultLabels({ node: sources.nodeId });
  }

  /** The Content-Type of `text()`: the Prometheus text exposition format 0.0.4. */
  get contentType(): string {
    return this.#registry.contentType;
  }

  /** Every series, read now. */
  text(): Promise<string> {
    return this.#registry.metrics();
  }

  /** Stops listening to commits and the event-loop monitor. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    diagnosticsChannel.unsubscribe(COMMIT_CHANNEL, this.#onCommit);
    clearInterval(this.#delayTimer);
    this.#delay.disable();
  }
}
