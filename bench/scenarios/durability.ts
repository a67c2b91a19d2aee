import * as Y from 'yjs';
import { createMessage } from '../../shared/roomDoc/messageOps.ts';
import { Receiver, SendLog } from '../load/deliveries.ts';
import { eachPeer, selectedPeers, withPeer } from '../load/peerRun.ts';
import { pinLoad } from '../load/peerServer.ts';
import { prepareRooms } from '../load/rooms.ts';
import { Session, ownCpuMs, sleep } from '../load/session.ts';
import type { Figure, RunOptions, Scenario } from '../scenario.ts';
import { quantile } from '../stats.ts';
import { PARLEY_UNLIMITED } from './peerFanout.ts';

/*
 * Durability cost: Parley's acknowledgement latency, from the writer's send until the `ack` whose
 * state vector covers the message (the update is committed to SQLite, then relayed, then
 * acknowledged). One writer (parley=1) and 10 observers in one room, closed loop: the next message
 * goes once the previous one is acknowledged and every observer has it. Run with the default
 * FULL (survives power loss: an fsync per group commit) and with
 * the opt-in NORMAL (survives a process crash). Only Parley acknowledges durably: the peers have
 * nothing to compare.
 */

const OBSERVERS = 10;
const QUICK = { warmup: 20, messages: 200 };
const FULL = { warmup: 100, messages: 2_000 };
const content = (i: number): string => `message ${i} of the durability benchmark `.padEnd(80, '.');

async function acks(synchronous: 'NORMAL' | 'FULL', sizes: typeof QUICK): Promise<Figure[]> {
  return withPeer('parley', { ...PARLEY_UNLIMITED, PARLEY_SQLITE_SYNCHRONOUS: synchronous }, async (server) => {
    const session = new Session(server);
    try {
      const [room] = await prepareRooms(server, 1, OBSERVERS + 1);
      const [writerMember, ...observers] = room?.members ?? [];
      if (!room || !writerMember) throw new Error('no room');
      const log = new SendLog();
      const arrivals: number[] = [];
      const receivers = observers.map(() => new Receiver(log, (_w, index) => (arrivals[index] = (arrivals[index] ?? 0) + 1)));
      await session.openSynced(
        observers.map((m, i) => {
          const { url, docName } = server.endpoint(room.roomId, m.token);
          return { url, docName, protocol: server.traits.protocol, label: `observer ${i}`, onUpdate: receivers[i]?.onUpdate };
        }),
      );
      const doc = new Y.Doc();
      const { url, docName } = server.endpoint(room.roomId, writerMember.token, { parley: true });
      const writer = session.open({ url, docName, protocol: server.traits.protocol, doc, label: 'writer' });
      await session.wait(writer.synced, 'writer sync');
      await sleep(500);

      const ackMs: number[] = [];
      let cpu = { server: 0, own: 0 };
      for (let i = 0; i < sizes.warmup + sizes.messages; i++) {
        if (i === sizes.warmup) cpu = { server: (await server.usage()).cpuMs, own: ownCpuMs() };
        const start = performance.now();
        const result = createMessage(doc, writerMember.actor, { content: content(i) });
        if (!result.ok) throw new Error(`${result.code}: ${result.message}`);
        const index = log.record(doc, start);
        await session.wait(writer.acknowledged(), `ack of message ${i}`);
        const acked = performance.now();
        if (i >= sizes.warmup) ackMs.push(acked - start);
        while ((arrivals[index] ?? 0) < observers.length) {
          await session.wait(new Promise((resolve) => setImmediate(resolve)), `delivery of message ${i}`);
        }
      }
      const serverMs = (await server.usage()).cpuMs - cpu.server;
      const note = `synchronous=${synchronous}; ${sizes.messages} msgs, closed loop, ${OBSERVERS} observers; server ${(serverMs / sizes.messages).toFixed(2)} ms CPU/msg`;
      const at = `synchronous=${synchronous}`;
      return [
        { metric: `${at}: ack latency p50`, value: quantile(ackMs, 0.5), unit: 'ms', note, peer: 'parley', better: 'lower' },
        { metric: `${at}: ack latency p99`, value: quantile(ackMs, 0.99), unit: 'ms', note, peer: 'parley', better: 'lower' },
        { metric: `${at}: ack latency max`, value: ackMs.reduce((a, b) => Math.max(a, b), 0), unit: 'ms', note, peer: 'parley', better: 'lower' },
      ];
    } finally {
      await session.closeAll();
    }
  });
}

const scenario: Scenario = {
  name: 'durability',
  description: "Parley's acknowledgement latency (send -> committed to SQLite and acknowledged), 1 writer + 10 observers, closed loop",
  async run(opts: RunOptions): Promise<Figure[]> {
    pinLoad();
    const sizes = opts.quick ? QUICK : FULL;
    return eachPeer('durability', selectedPeers(opts, ['parley']), async () => [...(await acks('NORMAL', sizes)), ...(await acks('FULL', sizes))]);
  },
};

export default scenario;
