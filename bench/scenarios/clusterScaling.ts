import { randomUUID } from 'node:crypto';
import { TokenService } from '../../server/auth/TokenService.ts';
import { type BenchCluster, startBenchCluster } from '../load/benchCluster.ts';
import { BenchMux, RoomObserver, RoomWriter } from '../load/benchMux.ts';
import { createRoom } from '../load/parleyApi.ts';
import { pinLoad, type RunningPeer } from '../load/peerServer.ts';
import { BENCH_SECRET } from '../load/rooms.ts';
import { sleep } from '../load/session.ts';
import type { Figure, RunOptions, Scenario } from '../scenario.ts';
import { median, quantile } from '../stats.ts';

/*
 * Parley as several nodes (issue 19, docs/scale-out.md) on this one machine: PostgreSQL, Redis and
 * 1, 2 or 3 compiled `parley serve` processes with their defaults (only what a cluster needs is
 * set). Many rooms, each with one writer and three observers on sockets spread round robin over
 * the nodes, each room owned by the node that opened it first (spread the same way), so with N
 * nodes about (N-1)/N of every room's sockets are forwarded to its owner over a node link.
 *
 * - fan-out: every writer sends open loop (200 messages/s in all); latency from each message's
 *   scheduled send to its arrival at each observer, so a stall shows in full.
 * - throughput: every writer keeps up to 8 messages unacknowledged, closed loop, sending at most 45
 *   a second (the default limit per connection is 50 updates/s; 200 writers: 9,000/s at most, more than one core serves);
 *   acknowledged messages per second in all, and the CPU the nodes, PostgreSQL and Redis spent per message.
 * - with 2 nodes: the cost of a forwarded frame, as the acknowledgement round trip of a writer on
 *   the owner and of one on the other node (one message at a time), and each node's CPU per message.
 * - with 2 nodes: how long a room takes to move when its owner is killed (SIGKILL) with its
 *   defaults (PARLEY_LEASE_TTL_MS 10 s): from the kill to the first message acknowledged by the
 *   other node, a client there retrying every 100 ms.
 *
 * On 2 cores every process shares the same two cores (the nodes are pinned to core 0 with the
 * other servers of the bench; the load generator to core 1; PostgreSQL and Redis float), so more
 * nodes add work and no capacity: the figures show what distribution costs, not what it gains.
 */

const ROOMS = 200;
const OBSERVERS = 3;
/** Users the observers are drawn from: each room's three are the next three after its index. */
const OBSERVER_USERS = 10;
const OPEN_LOOP_RATE = 200;
const WINDOW = 8;
/** Messages per second one writer sends at most: under the default per-connection limit of 50 updates/s. */
const WRITER_RATE_LIMIT = 45;
const QUICK = { fanoutSeconds: 6, warmupSeconds: 2, throughputSeconds: 6, probes: 150 };
const FULL = { fanoutSeconds: 15, warmupSeconds: 3, throughputSeconds: 15, probes: 500 };
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

/** One writer sends one message at a time; the acknowledgement round trips and the CPU of each node per message. */
async function roundTrips(cluster: BenchCluster, roomId: string, u: User, via: RunningPeer, count: number): Promise<{ rtt: number[]; cpuPerNode: number[] }> {
  const mux = await BenchMux.open(via.httpUrl, u.token, `probe via ${via.httpUrl}`);
  try {
    const writer = new RoomWriter(roomId, u.id);
    await mux.write(writer);
    for (let i = 0; i < 20; i++) {
      writer.send(content(i));
      await Promise.race([writer.untilAcked(writer.sent), mux.failed]);
      await sleep(1000 / WRITER_RATE_LIMIT);
    }
    const before = await Promise.all(cluster.nodes.map((n) => n.usage()));
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
    const after = await Promise.all(cluster.nodes.map((n) => n.usage()));
    return { rtt, cpuPerNode: after.map((u2, k) => (u2.cpuMs - before[k]!.cpuMs) / count) };
  } finally {
    await mux.close();
  }
}

/** Two nodes: a forwarded writer against a local one; then the owner killed and the room moving. */
async function forwardingAndFailover(sizes: Sizes): Promise<Figure[]> {
  const cluster = await startBenchCluster(2);
  try {
    const [owner, edge] = cluster.nodes as [RunningPeer, RunningPeer];
    const u = await user('bench prober');
    await known(owner, u);
    const roomId = await createRoom(owner.httpUrl, u.token, { name: 'forwarding probe', type: 'group', members: [] });
    // Opened on `owner` first: it owns the room.
    const local = await roundTrips(cluster, roomId, u, owner, sizes.probes);
    const forwarded = await roundTrips(cluster, roomId, u, edge, sizes.probes);
    const note = `${sizes.probes} messages one at a time (at most ${WRITER_RATE_LIMIT}/s), write to acknowledgement`;
    const figures: Figure[] = [
      { metric: 'local writer: ack round trip p50', value: median(local.rtt), unit: 'ms', note, better: 'lower' },
      { metric: 'forwarded writer: ack round trip p50', value: median(forwarded.rtt), unit: 'ms', note, better: 'lower' },
      { metric: 'local writer: ack round trip p99', value: quantile(local.rtt, 0.99), unit: 'ms', note, better: 'lower' },
      { metric: 'forwarded writer: ack round trip p99', value: quantile(forwarded.rtt, 0.99), unit: 'ms', note, better: 'lower' },
      { metric: 'forwarded / local: ack round trip p50', value: median(forwarded.rtt) / median(local.rtt), unit: '×', better: 'lower' },
      { metric: 'local writer: owner CPU per message', value: local.cpuPerNode[0]!, unit: 'ms', better: 'lower' },
      { metric: 'forwarded writer: owner CPU per message', value: forwarded.cpuPerNode[0]!, unit: 'ms', better: 'lower' },
      { metric: 'forwarded writer: edge CPU per message', value: forwarded.cpuPerNode[1]!, unit: 'ms', note: 'the node the writer is connected to: the cost of forwarding', better: 'lower' },
    ];

    // The owner dies; a client on the other node retries until the room is served again.
    const killedAt = performance.now();
    await owner.kill();
    let attempts = 0;
    for (;;) {
      attempts++;
      const mux = await BenchMux.open(edge.httpUrl, u.token, 'failover probe');
      try {
        const writer = new RoomWriter(roomId, u.id);
        await mux.write(writer);
        writer.send('after the owner died');
        await Promise.race([writer.untilAcked(1), mux.failed]);
        break;
      } catch {
        await sleep(100);
      } finally {
        await mux.close();
      }
      if (performance.now() - killedAt > 120_000) throw new Error('the room did not move within 2 minutes');
    }
    figures.push({ metric: 'room moves after its owner is killed', value: (performance.now() - killedAt) / 1000, unit: 's', note: `SIGKILL to the first acknowledgement by the other node, PARLEY_LEASE_TTL_MS at its default (10 s); ${attempts} attempts`, better: 'lower' });
    return figures;
  } finally {
    await cluster.stop();
  }
}

const scenario: Scenario = {
  name: 'clusterScaling',
  description: 'Parley as 1, 2 and 3 nodes on PostgreSQL and Redis, one machine: fan-out latency and throughput across 200 rooms, the cost of a forwarded frame, the time a room takes to move when its owner dies',
  async run(opts: RunOptions): Promise<Figure[]> {
    pinLoad();
    const sizes = opts.quick ? QUICK : FULL;
    const figures: Figure[] = [];
    for (const nodes of [1, 2, 3]) figures.push(...(await scaling(nodes, sizes)));
    figures.push(...(await forwardingAndFailover(sizes)));
    return figures;
  },
};

export default scenario;
