import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as Y from 'yjs';
import type { WebsocketProvider } from 'y-websocket';
import { openDatabase } from '../../server/storage/openDatabase.ts';
import type { Actor } from '../../shared/roomDoc/actor.ts';
import { createMessage } from '../../shared/roomDoc/messageOps.ts';
import { getMessage, messageCount } from '../../shared/roomDoc/queries.ts';
import { type ChildServer, startChildServer, stopChildServer } from '../../test/support/childServer.ts';
import { acknowledged, openProvider, synced } from '../../test/support/serverHarness.ts';
import { makeTempDir } from '../../test/support/tempDir.ts';
import { createRoom, devLogin } from '../load/parleyApi.ts';
import type { Figure, RunOptions, Scenario } from '../scenario.ts';
import { quantile } from '../stats.ts';
import { SqliteUpdateStore } from '../../server/storage/SqliteUpdateStore.ts';

/*
 * Parley's sync path over real loopback sockets. The server runs in a child process (its own
 * event loop and core); this process is the load generator: one writer and N observers, all stock
 * y-websocket providers in one room, the writer opted in to Parley's acks.
 *
 * - Closed loop: the writer sends one message (createMessage, ~80 characters), then waits until
 *   the server acknowledged it and every observer can read it (getMessage) before the next.
 *   Ack latency is send -> the ack covering it; delivery latency is send -> readable, at every
 *   observer (so N samples per message).
 * - Open loop: the writer sends BURST messages without waiting for anything (yielding to the event
 *   loop between sends, so acks and relays are read meanwhile); throughput runs until the last
 *   observer has the last message.
 * - Then the server's RSS, and after a clean SIGTERM shutdown the room's stored bytes (update log
 *   plus snapshot) per message, next to Y.encodeStateAsUpdate of the same document.
 *
 * Latencies include the load generator's own work: with 100 observers this process applies every
 * update 100 times, and the last observer's sample waits for the 99 before it.
 *
 * Every socket must stay up for the whole run: a connection the server closes (and the provider
 * reopens) fails the run at once, since its figures would measure reconnects, not the sync path.
 */

const WARMUP = 50;
const BURST = 1_000;
/** A wait (one closed-loop message, the whole burst, the first sync) that takes longer is a hang. */
const STALL_MS = 30_000;

interface Sizes {
  readonly observers: number;
  /** Measured closed-loop messages, after WARMUP unmeasured. */
  readonly messages: number;
}

const QUICK: readonly Sizes[] = [{ observers: 10, messages: 300 }];
const FULL: readonly Sizes[] = [
  { observers: 10, messages: 2_000 },
  { observers: 100, messages: 2_000 },
];


/** An observer's doc, reporting when a given message becomes readable through the query module. */
class Observer {
  readonly provider: WebsocketProvider;
  #waiting: { id: string; resolve: (at: number) => void } | null = null;

  constructor(provider: WebsocketProvider) {
    this.provider = provider;
    provider.doc.on('update', this.#check);
  }

  /** Resolves with the time (performance.now) at which message `id` was first readable here. */
  arrival(id: string): Promise<number> {
    if (this.#waiting) throw new Error('one arrival at a time');
    return new Promise((resolve) => {
      this.#waiting = { id, resolve };
      this.#check();
    });
  }

  readonly #check = (): void => {
    const waiting = this.#waiting;
    if (!waiting || getMessage(this.provider.doc, waiting.id) === null) return;
    this.#waiting = null;
    waiting.resolve(performance.now());
  };
}

/**
 * Fails the run at the first connection that closes before the end, and any wait that stalls.
 * Every wait is raced against `failed`, so a failure surfaces within one message, not at the end.
 */
class SteadyState {
  readonly failed: Promise<never>;
  #reject: (error: Error) => void = () => {};
  #error: Error | null = null;
  #ended = false;

  constructor() {
    this.failed = new Promise<never>((_, reject) => (this.#reject = reject));
    this.failed.catch(() => {});
  }

  /** Throws if a connection has closed. */
  check(): void {
    if (this.#error) throw this.#error;
  }

  #fail(error: Error): void {
    this.#error ??= error;
    this.#reject(error);
  }

  watch(provider: WebsocketProvider, who: string): void {
    provider.on('connection-close', (event: CloseEvent | null) => {
      if (this.#ended) return;
      const detail = event ? `${event.code} ${event.reason}` : 'no close event';
      this.#fail(new Error(`${who}'s connection closed during the run (${detail}); figures would measure reconnects`));
    });
  }

  /** `work`, unless a connection closed or STALL_MS passed first. */
  async wait<T>(work: Promise<T>, what: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const stalled = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: nothing for ${STALL_MS / 1000} s`)), STALL_MS);
    });
    try {
      return await Promise.race([work, this.failed, stalled]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** From now on connections are closed on purpose. */
  end(): void {
    this.#ended = true;
  }
}

/** Destroys the provider and its doc; the doc's destroy also stops the awareness timer the provider created. */
function close(provider: WebsocketProvider): void {
  provider.destroy();
  provider.doc.destroy();
}

const acknowledgedAt = (provider: WebsocketProvider): Promise<number> => acknowledged(provider).then(() => performance.now());

/** The child's resident set (VmRSS) and its peak (VmHWM) in bytes, or null off Linux. */
function rssOf(pid: number): { rss: number; peak: number } | null {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

/** CPU time (user + system, all threads) the child has used, in ms, or NaN off Linux. */
function cpuOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after "pid (comm) ": state is field 3, utime 14 and stime 15, in USER_HZ (100/s) ticks.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return Number.NaN;
  }
}

/** CPU time (user + system, all threads) this process has used, in ms. */
const ownCpu = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

const MiB = 2 ** 20;
const content = (i: number): string => `message ${i} from the sync latency benchmark `.padEnd(80, '.');

function latencyFigures(metric: string, times: readonly number[], note: string): Figure[] {
  return [
    { metric: `${metric}, p50`, value: quantile(times, 0.5), unit: 'ms', note },
    { metric: `${metric}, p99`, value: quantile(times, 0.99), unit: 'ms', note },
    { metric: `${metric}, max`, value: times.reduce((a, b) => Math.max(a, b), 0), unit: 'ms', note },
  ];
}

async function measure({ observers: n, messages: m }: Sizes): Promise<Figure[]> {
  const at = `${n} observers`;
  const tmp = makeTempDir('parley-bench-');
  const providers: WebsocketProvider[] = [];
  let server: ChildServer | null = null;
  // Every y-websocket provider adds a process 'exit' listener; n + 1 of them are expected here.
  const maxListeners = process.getMaxListeners();
  process.setMaxListeners(maxListeners + n + 1);
  try {
    // The open-loop burst sends far over the default 50 updates/s per connection: raise the limit.
    server = await startChildServer(['--dev', '--port', '0', '--data-dir', tmp.dir], { PARLEY_RATE_PER_SEC: '1000000', PARLEY_RATE_BURST: '1000000' });
    const startRss = rssOf(server.child.pid ?? -1);
    const syncUrl = `${server.url.replace(/^http/, 'ws')}/sync`;

    const writerLogin = await devLogin(server.url, 'bench writer');
    const observerLogins = await Promise.all(Array.from({ length: n }, (_, i) => devLogin(server!.url, `bench observer ${i}`)));
    const room = {
      id: await createRoom(server.url, writerLogin.token, {
        name: 'sync latency',
        type: 'group',
        members: observerLogins.map((l) => ({ user_id: l.userId })),
      }),
    };
    const actor: Actor = { userId: writerLogin.userId, role: 'owner' };

    const steady = new SteadyState();
    const writer = openProvider(syncUrl, room.id, writerLogin.token, { parley: true });
    providers.push(writer);
    steady.watch(writer, 'the writer');
    const watchers = observerLogins.map((l, i) => {
      const provider = openProvider(syncUrl, room.id, l.token);
      providers.push(provider);
      steady.watch(provider, `observer ${i}`);
      return new Observer(provider);
    });
    await steady.wait(Promise.all(providers.map(synced)), 'first sync');

    let sent = 0;
    const send = (): string => {
      const result = createMessage(writer.doc, actor, { content: content(sent) });
      if (!result.ok) throw new Error(`${result.code}: ${result.message}`);
      sent++;
      return result.id;
    };

    const pid = server.child.pid ?? -1;
    // Closed loop: warm-up, then m measured messages.
    const ackMs: number[] = [];
    const deliveryMs: number[] = [];
    let cpu = { server: 0, own: 0 };
    for (let i = 0; i < WARMUP + m; i++) {
      if (i === WARMUP) cpu = { server: cpuOf(pid), own: ownCpu() };
      const start = performance.now();
      const id = send();
      const [acked, ...arrived] = await steady.wait(Promise.all([acknowledgedAt(writer), ...watchers.map((w) => w.arrival(id))]), `message ${i}`);
      if (i < WARMUP) continue;
      ackMs.push((acked as number) - start);
      for (const time of arrived) deliveryMs.push(time - start);
    }

    const closedCpu = { server: cpuOf(pid) - cpu.server, own: ownCpu() - cpu.own };

    // Open loop: BURST messages, no per-message wait.
    cpu = { server: cpuOf(pid), own: ownCpu() };
    const burstStart = performance.now();
    let acked: Promise<number> = Promise.resolve(0);
    let delivered: Promise<number[]> = Promise.resolve([]);
    for (let i = 0; i < BURST; i++) {
      const id = send();
      if (i === BURST - 1) {
        // Registered before yielding: nothing of the last message can have arrived yet.
        acked = acknowledgedAt(writer);
        delivered = Promise.all(watchers.map((w) => w.arrival(id)));
      } else {
        await new Promise<void>((resolve) => setImmediate(resolve));
        steady.check();
      }
    }
    const lastAck = await steady.wait(acked, 'burst ack');
    const lastDelivery = Math.max(...(await steady.wait(delivered, 'burst delivery')));
    const burstCpu = { server: cpuOf(pid) - cpu.server, own: ownCpu() - cpu.own };

    const endRss = rssOf(pid);
    for (const w of watchers) {
      const seen = messageCount(w.provider.doc);
      if (seen !== sent) throw new Error(`an observer holds ${seen} messages, the writer sent ${sent}`);
    }
    const encodedBytes = Y.encodeStateAsUpdate(writer.doc).byteLength;

    steady.end();
    providers.splice(0).forEach(close);
    const exit = await stopChildServer(server);
    if (exit !== 0) throw new Error(`server did not shut down cleanly (${exit})`);

    const db = openDatabase(path.join(tmp.dir, 'parley.db'));
    let stored: { logBytes: number; logRows: number; snapshotBytes: number };
    try {
      const stats = new SqliteUpdateStore(db).stats(room.id);
      stored = { logBytes: stats.bytes, logRows: stats.updates, snapshotBytes: stats.snapshotBytes };
    } finally {
      db.close();
    }

    const burstMs = lastDelivery - burstStart;
    const figures: Figure[] = [
      ...latencyFigures(`${at}: ack latency`, ackMs, `send -> ack, ${m} msgs, closed loop`),
      ...latencyFigures(`${at}: delivery latency`, deliveryMs, `send -> readable, ${m} msgs x ${n} observers`),
      { metric: `${at}: server CPU per message`, value: closedCpu.server / m, unit: 'ms', note: 'closed loop; child process, all threads, 10 ms ticks' },
      { metric: `${at}: load generator CPU per message`, value: closedCpu.own / m, unit: 'ms', note: `closed loop; this process: writer + ${n} observers` },
      {
        metric: `${at}: throughput, open loop`,
        value: BURST / (burstMs / 1000),
        unit: 'msg/s',
        note:
          `${BURST} msgs until the last observer had all (${burstMs.toFixed(0)} ms; all acked at ${(lastAck - burstStart).toFixed(0)} ms; ` +
          `CPU: server ${burstCpu.server.toFixed(0)} ms, load generator ${burstCpu.own.toFixed(0)} ms)`,
      },
    ];
    if (endRss && startRss) {
      figures.push({
        metric: `${at}: server RSS at end`,
        value: endRss.rss / MiB,
        unit: 'MiB',
        note: `child process; ${(startRss.rss / MiB).toFixed(0)} MiB idle after start, peak ${(endRss.peak / MiB).toFixed(0)} MiB`,
      });
    } else {
      console.warn('syncLatency: no /proc/<pid>/status: RSS figure skipped');
    }
    figures.push(
      {
        metric: `${at}: stored bytes per message`,
        value: (stored.logBytes + stored.snapshotBytes) / sent,
        unit: 'B/msg',
        note: `${sent} msgs; snapshot ${stored.snapshotBytes} B + log ${stored.logBytes} B in ${stored.logRows} rows, after shutdown`,
      },
      {
        metric: `${at}: Y.encodeStateAsUpdate per message`,
        value: encodedBytes / sent,
        unit: 'B/msg',
        note: `the writer's doc, ${encodedBytes} B`,
      },
    );
    return figures;
  } finally {
    providers.forEach(close);
    if (server) await stopChildServer(server);
    tmp.remove();
    process.setMaxListeners(maxListeners);
  }
}

const scenario: Scenario = {
  name: 'syncLatency',
  description: 'Server in a child process, 1 writer + N observers (stock y-websocket) in one room: ack and delivery latency, throughput, RSS, stored bytes',
  async run({ quick }: RunOptions): Promise<Figure[]> {
    const figures: Figure[] = [];
    for (const sizes of quick ? QUICK : FULL) figures.push(...(await measure(sizes)));
    return figures;
  },
};

export default scenario;
