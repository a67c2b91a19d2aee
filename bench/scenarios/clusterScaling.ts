import { randomUUID } from 'node:crypto';
import { TokenService } from '../../server/auth/TokenService.ts';
import { type BenchCluster, startBenchCluster } from '../load/benchCluster.ts';
import { BenchMux, RoomObserver, RoomWriter } from '../load/benchMux.ts';
import { createRoom } from '../load/parleyApi.ts';
import type { RunningPeer } from '../load/peerServer.ts';
import { BENCH_SECRET } from '../load/rooms.ts';
import { sleep } from '../load/session.ts';
import type { Figure, RunOptions, Scenario } from '../scenario.ts';
import { median, quantile } from '../stats.ts';

/*
 * Parley as several nodes (issue 19, docs/scale-out.md) on this one machine: PostgreSQL, Redis and
 * 1, 2 or 3 compiled `parley serve` processes with their defaults (only what a cluster needs is
 * set). Many rooms, each written by a writer of its own on the node it is owned by (room r by node
 * r mod N) and observed by three devices of other users on nodes r+1, r+2, r+3 mod N: with 2 or 3
 * nodes two of each room's three deliveries cross a node link (half of its four channels are
 * forwarded), with 1 node none.
 *
 * - fan-out: every writer sends open loop (200 messages/s in all); latency from each message's
 *   scheduled send to its arrival at each observer, so a stall shows in full.
 * - throughput: every writer keeps up to 8 messages unacknowledged, closed loop, sending at most 45
 *   a second (the default limit per connection is 50 updates/s): 400 writers, 18,000/s at most,
 *   more than the nodes' core serves; acknowledged messages per second in all, and the CPU the
 *   nodes, PostgreSQL and Redis spent per message (background work included: lease renewal,
 *   presence full states every 5 s, link pings, GC).
 * - with 2 nodes: the acknowledgement round trip of a writer on the owner and of one on the
 *   other node (one message at a time).
 * - with 2 nodes, FAILOVERS times, each on a fresh pair: how long a room takes to move when its
 *   owner is killed (SIGKILL) with its defaults (PARLEY_LEASE_TTL_MS 10 s): from the kill to the
 *   first message acknowledged by the other node, a client there retrying every 100 ms.
 *
 * Placement on 2 cores: the nodes are pinned to core 0 (as every server of the bench), the load
 * generator to core 1, PostgreSQL and Redis run on either (benchCluster.ts unpins them). More
 * nodes add work and no capacity here: the figures show what distribution costs, not what it gains.
 */

const ROOMS = 400;
const OBSERVERS = 3;
/** Users the observers are drawn from: each room's three are the next three after its index. */
const OBSERVER_USERS = 10;
const OPEN_LOOP_RATE = 200;
const WINDOW = 8;
/** A third of the default lease TTL: how often an owner renews its leases. */
const RENEWAL_PERIOD_MS = 10_000 / 3;
/** Messages per second one writer sends at most: under the default per-connection limit of 50 updates/s. */
const WRITER_RATE_LIMIT = 45;
const QUICK = { fanoutSeconds: 6, warmupSeconds: 2, throughputSeconds: 6, probes: 150, failovers: 1 };
const FULL = { fanoutSeconds: 15, warmupSeconds: 3, throughputSeconds: 15, probes: 500, failovers: 3 };
type Sizes = typeof QUICK;

const tokens = new TokenService(BENCH_SECRET);
const content = (i: number): string => `message ${i} of the cluster benchmark `.padEnd(80, '.');

interface User {
  readonly id: string;
  readonly token: string;
}

async function user(name: string): Promise<User> {
  const id = randomUUID();
  return { id, token: await tokens.sign({ id, name }, 24 * 3600) };
}

/** Records the user in the directory (any node: they share it). */
async function known(node: RunningPeer, u: User): Promise<void> {
  const res = await fetch(`${node.httpUrl}/api/me`, { headers: { authorization: `Bearer ${u.token}` } });
  if (!res.ok) throw new Error(`GET /api/me: ${res.status}`);
}

interface Rooms {
  readonly writers: RoomWriter[];
  readonly sockets: BenchMux[];
  /** Every delivery to an observer: latency from its message's scheduled send, and when it arrived. */
  readonly deliveries: Array<{ latencyMs: number; at: number }>;
}

async function openRooms(cluster: BenchCluster): Promise<Rooms> {
  const { nodes } = cluster;
  // Each room is created (and written) by a writer of its own, as room creation is rate limited
  // per user, and observed by three of ten observer users, each with one device (socket) on every
  // node, as a user's devices spread over nodes (one socket per device carries its rooms).
  const observers = await Promise.all(Array.from({ length: OBSERVER_USERS }, (_, i) => user(`bench observer ${i}`)));
  const owners = await Promise.all(Array.from({ length: ROOMS }, (_, r) => user(`bench writer ${r}`)));
  for (const m of [...observers, ...owners]) await known(nodes[0]!, m);
  const writers: RoomWriter[] = [];
  const sockets: BenchMux[] = [];
  const deliveries: Array<{ latencyMs: number; at: number }> = [];
  const devices = new Map<string, BenchMux>();
  const deviceOf = async (u: User, node: number): Promise<BenchMux> => {
    const key = `${u.id} ${node}`;
    let mux = devices.get(key);
    if (!mux) {
      mux = await BenchMux.open(nodes[node]!.httpUrl, u.token, `observer device on node ${node + 1}`);
      devices.set(key, mux);
      sockets.push(mux);
    }
    return mux;
  };
  for (let r = 0; r < ROOMS; r++) {
    const owner = owners[r]!;
    const members = Array.from({ length: OBSERVERS }, (_, k) => observers[(r + k) % OBSERVER_USERS]!);
    const roomId = await createRoom(nodes[r % nodes.length]!.httpUrl, owner.token, { name: `cluster bench ${r}`, type: 'group', members: members.map((m) => ({ user_id: m.id })) });
    const writer = new RoomWriter(roomId, owner.id);
    // The room's first socket is on node r mod N, which therefore owns it; its observers are on the next nodes round.
    const writing = await BenchMux.open(nodes[r % nodes.length]!.httpUrl, owner.token, `writer ${r}`);
    sockets.push(writing);
    await writing.write(writer);
    for (const [k, m] of members.entries()) {
      const observer = new RoomObserver(writer, (latencyMs, at) => deliveries.push({ latencyMs, at }));
      await (await deviceOf(m, (r + 1 + k) % nodes.length)).observe(writer, observer);
    }
    writers.push(writer);
  }
  return { writers, sockets, deliveries };
}

const failedAny = (sockets: readonly BenchMux[]): Promise<never> => Promise.race(sockets.map((s) => s.failed));

async function cpuNow(cluster: BenchCluster): Promise<{ nodes: number; postgres: number; redis: number }> {
  const usages = await Promise.all(cluster.nodes.map((n) => n.usage()));
  return { nodes: usages.reduce((sum, u) => sum + u.cpuMs, 0), ...cluster.engineCpuMs() };
}

/** Open loop across every room: latency p50/p99/max of the deliveries after the warm-up. */
async function fanout(rooms: Rooms, sizes: Sizes): Promise<{ p50: number; p99: number; max: number; deliveries: number }> {
  const { writers, sockets, deliveries } = rooms;
  const intervalMs = 1000 / OPEN_LOOP_RATE;
  const start = performance.now();
  const total = Math.round(((sizes.warmupSeconds + sizes.fanoutSeconds) * 1000) / intervalMs);
  const timedFrom = start + sizes.warmupSeconds * 1000;
  const failed = failedAny(sockets);
  for (let i = 0; i < total; i++) {
    const due = start + i * intervalMs;
    const wait = due - performance.now();
    if (wait > 1) await Promise.race([sleep(wait), failed]);
    writers[i % writers.length]!.send(content(i), due);
  }
  const expected = total * OBSERVERS;
  const deadline = performance.now() + 30_000;
  while (deliveries.length < expected && performance.now() < deadline) await Promise.race([sleep(50), failed]);
  if (deliveries.length < expected) throw new Error(`fan-out: ${deliveries.length} of ${expected} deliveries arrived`);
  await Promise.all(writers.map((w) => Promise.race([w.untilAcked(w.sent), failed])));
  // Timed: messages due after the warm-up (a delivery's due time is its arrival minus its latency).
  const timed = deliveries.filter((d) => d.at - d.latencyMs >= timedFrom).map((d) => d.latencyMs);
  const result = { p50: quantile(timed, 0.5), p99: quantile(timed, 0.99), max: timed.reduce((a, b) => Math.max(a, b), 0), deliveries: timed.length };
  deliveries.length = 0;
  return result;
}

/** Closed loop, WINDOW unacknowledged per writer: acknowledged messages per second, CPU per message. */
async function throughput(cluster: BenchCluster, rooms: Rooms, sizes: Sizes): Promise<{ perSecond: number; cpu: { nodes: number; postgres: number; redis: number } }> {
  const { writers, sockets } = rooms;
  const failed = failedAny(sockets);
  const before = writers.map((w) => w.acked);
  const cpuBefore = await cpuNow(cluster);
  const start = performance.now();
  const end = start + sizes.throughputSeconds * 1000;
  let i = 0;
  await Promise.all(
    writers.map(async (w) => {
      let nextAt = performance.now();
      while (performance.now() < end) {
        // Paced under the per-connection rate limit (PARLEY_RATE_PER_SEC, 50 updates/s by default), as a client must be.
        while (w.sent - w.acked < WINDOW && performance.now() >= nextAt) {
          w.send(content(i++));
          nextAt += 1000 / WRITER_RATE_LIMIT;
        }
        if (w.sent - w.acked >= WINDOW) await Promise.race([w.untilAcked(w.acked + 1), failed]);
        else await Promise.race([sleep(Math.max(1, nextAt - performance.now())), failed]);
      }
    }),
  );
  const elapsed = performance.now() - start;
  const cpuAfter = await cpuNow(cluster);
  const acked = writers.reduce((sum, w, k) => sum + w.acked - before[k]!, 0);
  // Let what is still in flight land before the next phase.
  await Promise.all(writers.map((w) => Promise.race([w.untilAcked(w.sent), failed])));
  return {
    perSecond: (acked * 1000) / elapsed,
    cpu: { nodes: (cpuAfter.nodes - cpuBefore.nodes) / acked, postgres: (cpuAfter.postgres - cpuBefore.postgres) / acked, redis: (cpuAfter.redis - cpuBefore.redis) / acked },
  };
}

async function scaling(nodes: number, sizes: Sizes): Promise<Figure[]> {
  const cluster = await startBenchCluster(nodes);
  try {
    const rooms = await openRooms(cluster);
    try {
      await sleep(1_000);
      const fan = await fanout(rooms, sizes);
      const tput = await throughput(cluster, rooms, sizes);
      const at = `${nodes} node${nodes === 1 ? '' : 's'}`;
      const fanNote = `${ROOMS} rooms × (1 writer + ${OBSERVERS} observers), ${OPEN_LOOP_RATE} msgs/s in all for ${sizes.fanoutSeconds} s after ${sizes.warmupSeconds} s warm-up; ${fan.deliveries} deliveries`;
      return [
        { metric: `${at}: fan-out latency p50`, value: fan.p50, unit: 'ms', note: fanNote, better: 'lower' },
        { metric: `${at}: fan-out latency p99`, value: fan.p99, unit: 'ms', note: fanNote, better: 'lower' },
        { metric: `${at}: fan-out latency max`, value: fan.max, unit: 'ms', note: fanNote, better: 'lower' },
        { metric: `${at}: throughput`, value: tput.perSecond, unit: 'msgs/s', note: `closed loop, up to ${WINDOW} unacknowledged and ${WRITER_RATE_LIMIT}/s per writer (${ROOMS * WRITER_RATE_LIMIT}/s at most), ${ROOMS} writers, ${sizes.throughputSeconds} s`, better: 'higher' },
        { metric: `${at}: node CPU per message`, value: tput.cpu.nodes, unit: 'ms', note: 'all Parley processes, throughput window', better: 'lower' },
        { metric: `${at}: PostgreSQL CPU per message`, value: tput.cpu.postgres, unit: 'ms', note: 'throughput window', better: 'lower' },
        { metric: `${at}: Redis CPU per message`, value: tput.cpu.redis, unit: 'ms', note: 'throughput window', better: 'lower' },
      ];
    } finally {
      await Promise.all(rooms.sockets.map((s) => s.close()));
    }
  } finally {
    await cluster.stop();
  }
}

/** One writer sends one message at a time: the acknowledgement round trips. */
async function roundTrips(roomId: string, u: User, via: RunningPeer, count: number): Promise<number[]> {
  const mux = await BenchMux.open(via.httpUrl, u.token, `probe via ${via.httpUrl}`);
  try {
    const writer = new RoomWriter(roomId, u.id);
    await mux.write(writer);
    for (let i = 0; i < 20; i++) {
      writer.send(content(i));
      await Promise.race([writer.untilAcked(writer.sent), mux.failed]);
      await sleep(1000 / WRITER_RATE_LIMIT);
    }
    const rtt: number[] = [];
    let nextAt = performance.now();
    for (let i = 0; i < count; i++) {
      // Under the per-connection rate limit, as for the writers (the round trip is timed from the send).
      const wait = nextAt - performance.now();
      if (wait > 0) await sleep(wait);
      nextAt = performance.now() + 1000 / WRITER_RATE_LIMIT;
      const sentAt = performance.now();
      writer.send(content(i));
      await Promise.race([writer.untilAcked(writer.sent), mux.failed]);
      rtt.push(performance.now() - sentAt);
    }
    return rtt;
  } finally {
    await mux.close();
  }
}

interface TwoNodeRoom {
  readonly owner: RunningPeer;
  readonly edge: RunningPeer;
  readonly u: User;
  readonly roomId: string;
}

/** Two fresh nodes and a room of one prober created on the first (which owns it once it opens it first); stopped after `use`. */
async function withTwoNodeRoom<T>(name: string, use: (room: TwoNodeRoom) => Promise<T>): Promise<T> {
  const cluster = await startBenchCluster(2);
  try {
    const [owner, edge] = cluster.nodes as [RunningPeer, RunningPeer];
    const u = await user('bench prober');
    await known(owner, u);
    const roomId = await createRoom(owner.httpUrl, u.token, { name, type: 'group', members: [] });
    return await use({ owner, edge, u, roomId });
  } finally {
    await cluster.stop();
  }
}

/** Two nodes: a writer on the owner against one whose frames are forwarded. */
function forwarding(sizes: Sizes): Promise<Figure[]> {
  return withTwoNodeRoom('forwarding probe', async ({ owner, edge, u, roomId }) => {
    // Opened on `owner` first: it owns the room.
    const local = await roundTrips(roomId, u, owner, sizes.probes);
    const forwarded = await roundTrips(roomId, u, edge, sizes.probes);
    const note = `${sizes.probes} messages one at a time (at most ${WRITER_RATE_LIMIT}/s), write to acknowledgement`;
    return [
      { metric: 'local writer: ack round trip p50', value: median(local), unit: 'ms', note, better: 'lower' },
      { metric: 'forwarded writer: ack round trip p50', value: median(forwarded), unit: 'ms', note, better: 'lower' },
      { metric: 'local writer: ack round trip p99', value: quantile(local, 0.99), unit: 'ms', note, better: 'lower' },
      { metric: 'forwarded writer: ack round trip p99', value: quantile(forwarded, 0.99), unit: 'ms', note, better: 'lower' },
      { metric: 'forwarded / local: ack round trip p50', value: median(forwarded) / median(local), unit: '×', better: 'lower' },
    ];
  });
}

/** Two fresh nodes; the owner of a room is killed `afterMs` past a write: seconds until the other node acknowledges a write to it. */
function failover(afterMs: number): Promise<number> {
  return withTwoNodeRoom('failover probe', async ({ owner, edge, u, roomId }) => {
    const first = await BenchMux.open(owner.httpUrl, u.token, 'owner');
    const writer = new RoomWriter(roomId, u.id);
    await first.write(writer);
    writer.send('before the owner died');
    await Promise.race([writer.untilAcked(1), first.failed]);
    // At a chosen point of the owner's renewal period (a third of the TTL), as a crash may come at any.
    await sleep(afterMs);
    const killedAt = performance.now();
    await owner.kill();
    await first.close();
    for (;;) {
      const mux = await BenchMux.open(edge.httpUrl, u.token, 'failover probe');
      try {
        const again = new RoomWriter(roomId, u.id);
        await mux.write(again);
        again.send('after the owner died');
        await Promise.race([again.untilAcked(1), mux.failed]);
        return (performance.now() - killedAt) / 1000;
      } catch {
        await sleep(100);
      } finally {
        await mux.close();
      }
      if (performance.now() - killedAt > 120_000) throw new Error('the room did not move within 2 minutes');
    }
  });
}

const scenario: Scenario = {
  name: 'clusterScaling',
  description: 'Parley as 1, 2 and 3 nodes on PostgreSQL and Redis, one machine: fan-out latency and throughput across 400 rooms, the cost of a forwarded frame, the time a room takes to move when its owner dies',
  async run(opts: RunOptions): Promise<Figure[]> {
    const sizes = opts.quick ? QUICK : FULL;
    const figures: Figure[] = [];
    for (const nodes of [1, 2, 3]) figures.push(...(await scaling(nodes, sizes)));
    figures.push(...(await forwarding(sizes)));
    const moves: number[] = [];
    for (let i = 0; i < sizes.failovers; i++) moves.push(await failover(((i + 0.5) * RENEWAL_PERIOD_MS) / sizes.failovers));
    const note = `SIGKILL at points spread over the owner's renewal period to the first acknowledgement by the other node, PARLEY_LEASE_TTL_MS at its default (10 s); ${moves.length} kill(s): ${moves.map((m) => m.toFixed(1)).join(', ')} s`;
    figures.push(
      { metric: 'room moves after its owner is killed: median', value: median(moves), unit: 's', note, better: 'lower' },
      { metric: 'room moves after its owner is killed: max', value: Math.max(...moves), unit: 's', note, better: 'lower' },
    );
    return figures;
  },
};

export default scenario;
