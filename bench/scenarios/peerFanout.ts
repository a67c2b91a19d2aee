import * as Y from 'yjs';
import { createMessage } from '../../shared/roomDoc/messageOps.ts';
import { openFanoutRoom } from '../load/fanoutRoom.ts';
import { collectGarbage, eachPeer, loadGeneratorDelay, selectedPeers, withPeer } from '../load/peerRun.ts';
import { type PeerName, TRAITS, pinLoad } from '../load/peerServer.ts';
import { Session, ownCpuMs, tick } from '../load/session.ts';
import { storedBytes } from '../load/storedBytes.ts';
import type { Figure, RunOptions, Scenario } from '../scenario.ts';
import { quantile } from '../stats.ts';

/*
 * Fan-out: one writer and N observers in one room, on every server. The writer writes real
 * messages (createMessage as a member, ~80 characters); each observer is a bare socket that
 * timestamps every update as it arrives (bench/load/deliveries.ts), so the figures are the
 * server's relay path plus loopback, not the load generator applying documents.
 *
 * - After every client has synced, one second to settle (Parley publishes room presence to every
 *   connection within 200 ms of a join), then:
 * - Closed loop: one message at a time, the next once every observer has the previous one;
 *   send -> receive latency at every observer (N samples per message): p50, p99, max.
 * - Saturation: BURST messages sent back to back (yielding to the event loop between sends), timed
 *   until every observer has all of them: delivered updates per second (messages x N).
 * - Server CPU per message in the closed loop, from the server process's /proc counters (all threads).
 * - After the first N, the server is stopped cleanly and its storage measured: stored bytes per
 *   message against Y.encodeStateAsUpdate of the writer's document (the Yjs encoded size). For
 *   Parley also while the room is live (its uncompacted log).
 *
 * Parley's per-connection rate limit (50 updates/s by default) would close the writer, so it is
 * raised to 1,000,000 here (PARLEY_RATE_PER_SEC, PARLEY_RATE_BURST); everything else is default.
 */

interface Sizes {
  readonly observers: readonly number[];
  readonly warmup: number;
  readonly messages: number;
  readonly burst: number;
}

const QUICK: Sizes = { observers: [10, 100, 500], warmup: 20, messages: 100, burst: 200 };
const FULL: Sizes = { observers: [10, 100, 500], warmup: 50, messages: 500, burst: 2_000 };
export const PARLEY_UNLIMITED: Record<string, string> = { PARLEY_RATE_PER_SEC: '1000000', PARLEY_RATE_BURST: '1000000' };

const SETTLE_MS = 1_000;
const content = (i: number): string => `message ${i} of the fan-out benchmark `.padEnd(80, '.');

async function fanout(peer: PeerName, n: number, sizes: Sizes, measureStorage: boolean): Promise<Figure[]> {
  const env = peer === 'parley' ? PARLEY_UNLIMITED : {};
  return withPeer(peer, env, async (server, dataDir) => {
    const session = new Session(server);
    try {
      // arrivals[i]: observers that have message i; waiting: the closed loop's wait for message i.
      const arrivals: number[] = [];
      const latencies: number[] = [];
      let measuring = false;
      let waiting: { index: number; resolve: () => void } | null = null;
      const onDelivery = (_writer: number, index: number, latencyMs: number): void => {
        const count = (arrivals[index] = (arrivals[index] ?? 0) + 1);
        if (measuring) latencies.push(latencyMs);
        if (waiting && waiting.index === index && count === n) {
          const w = waiting;
          waiting = null;
          w.resolve();
        }
      };
      const { roomId, writerMember, doc, log, receivers } = await openFanoutRoom(server, session, n, onDelivery, SETTLE_MS);

      let sent = 0;
      const send = (): number => {
        const at = performance.now();
        const result = createMessage(doc, writerMember.actor, { content: content(sent) });
        if (!result.ok) throw new Error(`${result.code}: ${result.message}`);
        sent++;
        return log.record(doc, at);
      };
      const allHave = (index: number): Promise<void> =>
        (arrivals[index] ?? 0) >= n ? Promise.resolve() : new Promise((resolve) => (waiting = { index, resolve }));

      // Closed loop.
      collectGarbage();
      let cpu = { server: 0, own: 0, at: 0 };
      for (let i = 0; i < sizes.warmup + sizes.messages; i++) {
        if (i === sizes.warmup) {
          measuring = true;
          loadGeneratorDelay();
          cpu = { server: (await server.usage()).cpuMs, own: ownCpuMs(), at: performance.now() };
        }
        const index = send();
        await session.wait(allHave(index), `message ${i}`);
      }
      measuring = false;
      const lag = loadGeneratorDelay();
      const closed = { server: (await server.usage()).cpuMs - cpu.server, own: ownCpuMs() - cpu.own };

      // Saturation.
      cpu = { server: (await server.usage()).cpuMs, own: ownCpuMs(), at: performance.now() };
      let last = 0;
      for (let i = 0; i < sizes.burst; i++) {
        last = send();
        await tick();
        session.check();
      }
      await session.wait(allHave(last), 'burst delivery');
      const burstMs = performance.now() - cpu.at;
      const burst = { server: (await server.usage()).cpuMs - cpu.server, own: ownCpuMs() - cpu.own };
      for (const r of receivers) {
        const got = r.count(doc.clientID);
        if (got !== sent) throw new Error(`an observer has ${got} of ${sent} messages`);
      }

      const at = `N=${n}`;
      const note = `${sizes.messages} msgs x ${n} observers, closed loop; load generator lag max ${lag.maxMs.toFixed(0)} ms`;
      const figures: Figure[] = [
        { metric: `${at}: latency p50`, value: quantile(latencies, 0.5), unit: 'ms', note, peer, better: 'lower' },
        { metric: `${at}: latency p99`, value: quantile(latencies, 0.99), unit: 'ms', note, peer, better: 'lower' },
        { metric: `${at}: latency max`, value: latencies.reduce((a, b) => Math.max(a, b), 0), unit: 'ms', note, peer, better: 'lower' },
        {
          metric: `${at}: server CPU per message`,
          value: closed.server / sizes.messages,
          unit: 'ms',
          note: `closed loop; load generator ${(closed.own / sizes.messages).toFixed(2)} ms/msg`,
          peer,
          better: 'lower',
        },
        {
          metric: `${at}: delivered updates/s at saturation`,
          value: (sizes.burst * n) / (burstMs / 1000),
          unit: 'upd/s',
          note: `${sizes.burst} msgs back to back in ${burstMs.toFixed(0)} ms; server ${(burst.server / burstMs).toFixed(2)} cores, load generator ${(burst.own / burstMs).toFixed(2)} cores`,
          peer,
          better: 'higher',
        },
      ];

      if (measureStorage && TRAITS[peer].persists) {
        const encoded = Y.encodeStateAsUpdate(doc).byteLength;
        if (peer === 'parley') {
          // While the room is live its updates sit in the log, one row each, until a compaction.
          const live = storedBytes(peer, dataDir, roomId);
          if (live?.roomBytes != null) {
            figures.push({
              metric: 'stored bytes per message, live',
              value: live.roomBytes / sent,
              unit: 'B/msg',
              note: `read while the room is loaded: ${live.detail}; compaction after ${sent < 500 ? 'PARLEY_COMPACT_UPDATES (500) updates or' : ''} unload merges the log`,
              peer,
              better: 'lower',
            });
            figures.push({ metric: 'stored / Yjs encoded size, live', value: live.roomBytes / encoded, unit: 'x', note: 'before compaction', peer, better: 'lower' });
          }
        }
        await session.closeAll();
        const exit = await server.stop();
        if (exit !== 0) throw new Error(`${peer} did not stop cleanly (${exit})`);
        const stored = storedBytes(peer, dataDir, roomId);
        if (stored) {
          const bytes = stored.roomBytes ?? stored.fileBytes;
          figures.push(
            {
              metric: 'stored bytes per message, after shutdown',
              value: bytes / sent,
              unit: 'B/msg',
              note: `${sent} msgs, one update each; ${stored.detail}; files ${(stored.fileBytes / sent).toFixed(0)} B/msg; Yjs encoded ${(encoded / sent).toFixed(0)} B/msg`,
              peer,
              better: 'lower',
            },
            { metric: 'stored / Yjs encoded size, after shutdown', value: bytes / encoded, unit: 'x', note: 'Y.encodeStateAsUpdate of the writer doc', peer, better: 'lower' },
          );
        }
      }
      return figures;
    } finally {
      await session.closeAll();
    }
  });
}

const scenario: Scenario = {
  name: 'peerFanout',
  description: 'Every server, 1 writer + N observers in one room: send->receive latency at every observer, delivered updates/s at saturation, stored bytes per message',
  async run(opts: RunOptions): Promise<Figure[]> {
    pinLoad();
    const sizes = opts.quick ? QUICK : FULL;
    return eachPeer('peerFanout', selectedPeers(opts), async (peer) => {
      const figures: Figure[] = [];
      for (const [i, n] of sizes.observers.entries()) figures.push(...(await fanout(peer, n, sizes, i === 0)));
      return figures;
    });
  },
};

export default scenario;
