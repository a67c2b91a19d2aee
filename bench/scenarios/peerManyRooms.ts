import * as Y from 'yjs';
import { createMessage } from '../../shared/roomDoc/messageOps.ts';
import { Receiver, SendLog } from '../load/deliveries.ts';
import { collectGarbage, eachPeer, loadGeneratorDelay, MiB, selectedPeers, withPeer } from '../load/peerRun.ts';
import { type PeerName, pinLoad } from '../load/peerServer.ts';
import type { Member } from '../load/rooms.ts';
import { prepareRooms } from '../load/rooms.ts';
import { Session, ownCpuMs, sleep } from '../load/session.ts';
import type { SyncClient } from '../load/syncClient.ts';
import type { Figure, RunOptions, Scenario } from '../scenario.ts';
import { quantile } from '../stats.ts';

/*
 * Many rooms: 200 rooms x 5 clients (quick: 50 x 5), every client a member writing real messages
 * (createMessage, its own Yjs client id and user) and reading the other four. The total send rate
 * climbs in steps; each step runs at a fixed rate, spread evenly over the clients, then drains.
 * Latency is send -> receive at each of the room's other clients. The sustained rate is the
 * highest step whose p99 stayed at or under 100 ms with every message delivered; the ramp also
 * stops when the load generator cannot send at the asked rate (said in the note) or a connection
 * drops (the reason is in the note). Server CPU (cores) and RSS are read at that step. A step that
 * fails while the load generator's own event loop stalled over 50 ms is measured again, once.
 *
 * Parley runs with its default limits: 16,000 msg/s over 1,000 clients is 16 updates/s each, under
 * the 50/s per connection it allows (the quick run's 4,000 over 250 clients is 16/s too).
 */

interface Sizes {
  readonly rooms: number;
  readonly rates: readonly number[];
  readonly stepMs: number;
}
const WARMUP_MS = 1_000;

const PER_ROOM = 5;
const QUICK: Sizes = { rooms: 50, rates: [1_000, 2_000, 4_000], stepMs: 3_000 };
const FULL: Sizes = { rooms: 200, rates: [1_000, 2_000, 3_000, 4_000, 6_000, 8_000, 12_000, 16_000], stepMs: 10_000 };
const DRAIN_MS = 5_000;
/** A failed step is measured again once when the load generator's own event loop stalled this long. */
const LAG_RETRY_MS = 50;
const P99_LIMIT_MS = 100;
const TICK_MS = 5;

interface Step {
  readonly rate: number;
  readonly achieved: number;
  readonly p99: number;
  readonly p50: number;
  readonly cores: number;
  readonly loadCores: number;
  readonly rssBytes: number;
  readonly missing: number;
  /** The load generator's worst event-loop delay during the step. */
  readonly lagMs: number;
  /** The server's worst event-loop delay during the step (probe). */
  readonly serverDelayMaxMs: number;
}

async function manyRooms(peer: PeerName, sizes: Sizes): Promise<Figure[]> {
  return withPeer(peer, {}, async (server) => {
    const session = new Session(server);
    try {
      const rooms = await prepareRooms(server, sizes.rooms, PER_ROOM);
      const log = new SendLog();
      let latencies: number[] = [];
      let delivered = 0;
      const onDelivery = (_w: number, _i: number, ms: number): void => {
        latencies.push(ms);
        delivered++;
      };
      const writers: { doc: Y.Doc; member: Member; client: SyncClient }[] = [];
      const options = rooms.flatMap((room, r) =>
        room.members.map((member, m) => {
          const doc = new Y.Doc();
          const receiver = new Receiver(log, onDelivery, doc.clientID);
          const { url, docName } = server.endpoint(room.roomId, member.token);
          const opts = { url, docName, protocol: server.traits.protocol, token: member.token, doc, autoSend: false, label: `room ${r} client ${m}`, onUpdate: receiver.onUpdate };
          return { doc, member, opts };
        }),
      );
      const clients = await session.openSynced(options.map((o) => o.opts));
      options.forEach((o, i) => {
        const client = clients[i];
        if (client) writers.push({ doc: o.doc, member: o.member, client });
      });
      // Member-major order, so consecutive sends go to different rooms.
      const order = Array.from({ length: PER_ROOM }, (_, m) => rooms.map((_, r) => writers[r * PER_ROOM + m])).flat();
      await sleep(1_000);

      let cursor = 0;
      let sent = 0;
      const steps: Step[] = [];
      let stopped = '';
      // The first rate, once unmeasured: warms up the JITs of both sides.
      const plan = [sizes.rates[0] ?? 0, ...sizes.rates];
      const retried = new Set<number>();
      const retries: string[] = [];
      for (let s = 0; s < plan.length; s++) {
        const rate = plan[s] ?? 0;
        const warmup = s === 0;
        const stepMs = warmup ? WARMUP_MS : sizes.stepMs;
        latencies = [];
        const deliveredBefore = delivered;
        const sentBefore = sent;
        // The step's messages are written beforehand (createMessage, in send order), so the timed
        // loop only sends bytes: the load generator's cost per message is what limits the ramp.
        const total = Math.round((rate * stepMs) / 1000);
        const queue: { w: (typeof writers)[number]; update: Uint8Array; end: number }[] = [];
        for (let k = 0; k < total; k++) {
          const w = order[cursor++ % order.length];
          if (!w) continue;
          let update: Uint8Array | null = null;
          const capture = (u: Uint8Array): void => {
            update = u;
          };
          w.doc.on('update', capture);
          const result = createMessage(w.doc, w.member.actor, { content: `message ${k} at ${rate}/s `.padEnd(80, '.') });
          w.doc.off('update', capture);
          if (!result.ok || update === null) throw new Error(result.ok ? 'createMessage wrote nothing' : `${result.code}: ${result.message}`);
          queue.push({ w, update, end: Y.getState(w.doc.store, w.doc.clientID) });
        }
        collectGarbage();
        loadGeneratorDelay();
        await server.probe({ resetDelay: true });
        const before = await server.usage();
        const own = ownCpuMs();
        const start = performance.now();
        try {
          await session.wait(
            new Promise<void>((resolve, reject) => {
              const timer = setInterval(() => {
                try {
                  const elapsed = performance.now() - start;
                  const due = Math.min(Math.floor((rate * Math.min(elapsed, stepMs)) / 1000), Math.round((rate * stepMs) / 1000)) - (sent - sentBefore);
                  for (let k = 0; k < due; k++) {
                    const next = queue[sent - sentBefore];
                    if (!next) break;
                    const at = performance.now();
                    next.w.client.sendUpdate(next.update);
                    log.recordClock(next.w.doc.clientID, next.end, at);
                    sent++;
                  }
                  if (elapsed >= stepMs) {
                    clearInterval(timer);
                    resolve();
                  }
                } catch (error) {
                  clearInterval(timer);
                  reject(error instanceof Error ? error : new Error(String(error)));
                }
              }, TICK_MS);
              session.failed.catch(() => clearInterval(timer));
            }),
            `sending at ${rate}/s`,
          );
          const expected = (sent - sentBefore) * (PER_ROOM - 1);
          const drainEnd = performance.now() + DRAIN_MS;
          while (delivered - deliveredBefore < expected && performance.now() < drainEnd) await session.wait(sleep(20), 'drain');
        } catch (error) {
          stopped = `stopped at ${rate}/s: ${(error as Error).message.split('\n')[0]}`;
          console.warn(`  peerManyRooms on ${peer}: ${stopped}`);
          break;
        }
        const wall = performance.now() - start;
        const after = await server.usage();
        const serverDelay = await server.probe();
        const lag = loadGeneratorDelay();
        if (warmup) continue;
        const missing = (sent - sentBefore) * (PER_ROOM - 1) - (delivered - deliveredBefore);
        const step: Step = {
          rate,
          achieved: ((sent - sentBefore) * 1000) / stepMs,
          p50: latencies.length > 0 ? quantile(latencies, 0.5) : Number.NaN,
          p99: missing > 0 || latencies.length === 0 ? Number.POSITIVE_INFINITY : quantile(latencies, 0.99),
          cores: (after.cpuMs - before.cpuMs) / wall,
          loadCores: (ownCpuMs() - own) / wall,
          rssBytes: after.rssBytes,
          missing,
          lagMs: lag.maxMs,
          serverDelayMaxMs: serverDelay.delay.maxMs,
        };
        steps.push(step);
        if (step.achieved < rate * 0.9) {
          stopped = `load generator could not send ${rate}/s (sent ${step.achieved.toFixed(0)}/s)`;
          break;
        }
        if (step.p99 > P99_LIMIT_MS && step.lagMs > LAG_RETRY_MS && !retried.has(rate)) {
          // The load generator itself stalled (the machine is shared, or a GC): measure the step again, once.
          retried.add(rate);
          retries.push(`${rate}/s retried after p99 ${Number.isFinite(step.p99) ? step.p99.toFixed(0) : 'inf'} ms with a ${step.lagMs.toFixed(0)} ms load-generator stall`);
          steps.pop();
          plan.splice(s + 1, 0, rate);
          continue;
        }
        if (step.p99 > P99_LIMIT_MS) {
          stopped = missing > 0 ? `${missing} deliveries missing ${DRAIN_MS / 1000} s after the ${rate}/s step` : `p99 ${step.p99.toFixed(0)} ms at ${rate}/s`;
          break;
        }
      }
      if (stopped === '') stopped = 'top of the ramp reached';
      const passing = steps.filter((s) => s.p99 <= P99_LIMIT_MS && s.achieved >= s.rate * 0.9);
      const best = passing[passing.length - 1];
      const ramp = steps
        .map((s) => `${s.rate}/s: p99 ${Number.isFinite(s.p99) ? s.p99.toFixed(1) : 'inf'} ms, ${s.cores.toFixed(2)} cores, server loop delay max ${s.serverDelayMaxMs.toFixed(0)} ms (load ${s.loadCores.toFixed(2)} cores, lag max ${s.lagMs.toFixed(0)} ms)`)
        .join('; ');
      const scope = `${sizes.rooms}x${PER_ROOM}`;
      return [
        {
          metric: `${scope}: sustained msg/s (p99 <= 100 ms)`,
          value: best?.rate ?? 0,
          unit: 'msg/s',
          note: `${stopped}. Ramp: ${ramp}${retries.length > 0 ? `. ${retries.join('; ')}` : ''}`,
          peer,
          better: 'higher',
        },
        { metric: `${scope}: p99 at that rate`, value: best?.p99 ?? Number.NaN, unit: 'ms', note: 'send -> receive at the 4 other clients', peer, better: 'lower' },
        { metric: `${scope}: server CPU at that rate`, value: best?.cores ?? Number.NaN, unit: 'cores', note: 'server process, all threads', peer, better: 'lower' },
        { metric: `${scope}: server RSS at that rate`, value: (best?.rssBytes ?? Number.NaN) / MiB, unit: 'MiB', note: `${sizes.rooms * PER_ROOM} connections`, peer, better: 'lower' },
      ];
    } finally {
      await session.closeAll();
    }
  });
}

const scenario: Scenario = {
  name: 'peerManyRooms',
  description: 'Every server, 200 rooms x 5 clients (quick: 50 x 5) sending at stepped fixed rates: sustained msg/s before p99 passes 100 ms, server CPU and RSS',
  async run(opts: RunOptions): Promise<Figure[]> {
    pinLoad();
    const sizes = opts.quick ? QUICK : FULL;
    return eachPeer('peerManyRooms', selectedPeers(opts), (peer) => manyRooms(peer, sizes));
  },
};

export default scenario;
