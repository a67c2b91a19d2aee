import { randomInt } from 'node:crypto';
import { eachPeer, MiB, selectedPeers, withPeer } from '../load/peerRun.ts';
import { type PeerName, type Probe, ProbeTimeout, type RunningPeer, pinLoad } from '../load/peerServer.ts';
import { prepareRooms } from '../load/rooms.ts';
import { Session, ownCpuMs, sleep } from '../load/session.ts';
import type { Figure, RunOptions, Scenario } from '../scenario.ts';

/*
 * Presence: 500 clients (quick: 100) in one room, each updating its awareness state once a second
 * (a typing flag and a cursor that change every time; updates spread evenly over the second), the
 * load y/hub's benchmark reports. Over a window after a warm-up: the server's CPU share (cores, all
 * threads) and its event-loop delay p99 (perf_hooks.monitorEventLoopDelay, preloaded into every
 * server by bench/peers/probe.mjs, so Parley needs no hook of its own), and its RSS. Every update goes
 * out to the whole room, so the load generator counts the client states it receives, against
 * N x N per second, to show whether it kept up (a reader that falls behind slows the server down),
 * and the frames they came in (Parley batches them; the others send one frame per update).
 */

interface Sizes {
  readonly clients: number;
  readonly warmupMs: number;
  readonly windowMs: number;
}

const QUICK: Sizes = { clients: 100, warmupMs: 2_000, windowMs: 5_000 };
const FULL: Sizes = { clients: 500, warmupMs: 5_000, windowMs: 20_000 };
const TICK_MS = 10;
const PROBE_WAIT_MS = 10_000;

async function probeOrNull(server: RunningPeer, resetDelay: boolean): Promise<Probe | null> {
  try {
    return await server.probe({ resetDelay, timeoutMs: PROBE_WAIT_MS });
  } catch (error) {
    if (error instanceof ProbeTimeout) return null;
    throw error;
  }
}


async function presence(peer: PeerName, sizes: Sizes): Promise<Figure[]> {
  return withPeer(peer, {}, async (server) => {
    const session = new Session(server);
    let timer: NodeJS.Timeout | undefined;
    try {
      const [room] = await prepareRooms(server, 1, sizes.clients);
      if (!room) throw new Error('no room');
      let frames = 0;
      let entries = 0;
      const onAwareness = (_bytes: number, _at: number, count: number): void => {
        frames++;
        entries += count;
      };
      const clients = await session.openSynced(
        room.members.map((m, i) => {
          const { url, docName } = server.endpoint(room.roomId, m.token);
          return { url, docName, protocol: server.traits.protocol, token: m.token, label: `client ${i}`, onAwareness };
        }),
      );
      const ids = clients.map(() => randomInt(1, 2 ** 31));
      const clocks = clients.map(() => 0);
      let failure: Error | null = null;
      const update = (i: number): void => {
        const client = clients[i];
        const id = ids[i];
        if (!client || id === undefined) return;
        const clock = (clocks[i] = (clocks[i] ?? 0) + 1);
        client.sendAwareness(id, clock, { user: { name: `bench user ${i}`, color: '#30bced' }, typing: clock % 2 === 0, cursor: clock });
      };

      // Client i updates at i/N of every second.
      const start = performance.now();
      let done = 0;
      timer = setInterval(() => {
        try {
          const due = Math.floor(((performance.now() - start) / 1000) * sizes.clients);
          for (; done < due; done++) update(done % sizes.clients);
        } catch (error) {
          failure = error instanceof Error ? error : new Error(String(error));
          clearInterval(timer);
        }
      }, TICK_MS);

      await session.wait(sleep(sizes.warmupMs), 'warm-up');
      // CPU and RSS from /proc, which answers even when the server's event loop is saturated; the
      // event-loop delay from the probe, which may then not answer in time (that is the figure).
      const delayStart = await probeOrNull(server, true);
      const before = await server.usage();
      const own = ownCpuMs();
      const framesBefore = frames;
      const entriesBefore = entries;
      const sentBefore = done;
      const windowStart = performance.now();
      await session.wait(sleep(sizes.windowMs), 'window');
      const after = await server.usage();
      const wall = performance.now() - windowStart;
      const delayEnd = delayStart === null ? null : await probeOrNull(server, false);
      clearInterval(timer);
      if (failure) throw failure;
      const ownCores = (ownCpuMs() - own) / wall;
      const updatesPerSec = ((done - sentBefore) * 1000) / wall;
      const framesPerSec = ((frames - framesBefore) * 1000) / wall;
      const entriesPerSec = ((entries - entriesBefore) * 1000) / wall;
      const fanout = updatesPerSec * sizes.clients;
      const note = `${sizes.clients} clients x 1 Hz over ${(wall / 1000).toFixed(1)} s: sent ${updatesPerSec.toFixed(0)} updates/s; received ${entriesPerSec.toFixed(0)} states/s (${((100 * entriesPerSec) / fanout).toFixed(0)}% of N x updates) in ${framesPerSec.toFixed(0)} awareness frames/s; load generator ${ownCores.toFixed(2)} cores`;
      return [
        { metric: `${sizes.clients} clients: server CPU`, value: (after.cpuMs - before.cpuMs) / wall, unit: 'cores', note, peer, better: 'lower' },
        delayEnd === null
          ? { metric: `${sizes.clients} clients: event-loop delay p99`, value: Number.NaN, unit: 'ms', note: `no answer to a probe within ${PROBE_WAIT_MS / 1000} s: the event loop was saturated`, peer, better: 'lower' }
          : { metric: `${sizes.clients} clients: event-loop delay p99`, value: delayEnd.delay.p99Ms, unit: 'ms', note: `beyond monitorEventLoopDelay's 10 ms sampling interval; max ${delayEnd.delay.maxMs.toFixed(1)} ms`, peer, better: 'lower' },
        { metric: `${sizes.clients} clients: server RSS`, value: after.rssBytes / MiB, unit: 'MiB', note: 'at the end of the window', peer, better: 'lower' },
      ];
    } finally {
      clearInterval(timer);
      await session.closeAll();
    }
  });
}

const scenario: Scenario = {
  name: 'peerPresence',
  description: 'Every server, 500 clients (quick: 100) in one room updating awareness at 1 Hz: server CPU, event-loop delay p99',
  async run(opts: RunOptions): Promise<Figure[]> {
    pinLoad();
    const sizes = opts.quick ? QUICK : FULL;
    return eachPeer('peerPresence', selectedPeers(opts), (peer) => presence(peer, sizes));
  },
};

export default scenario;
