import { eachPeer, MiB, selectedPeers } from '../load/peerRun.ts';
import { type PeerName, pinLoad } from '../load/peerServer.ts';
import { fullSyncWatcher, seedHistory } from '../load/seed.ts';
import { holdsHistory, verifyHistory, withSeeded } from '../load/seededRoom.ts';
import { Session } from '../load/session.ts';
import type { Figure, RunOptions, Scenario } from '../scenario.ts';
import { quantile } from '../stats.ts';

/*
 * Join storm: 200 clients (quick: 50) open one room of 100,000 messages (quick: 20,000) at the
 * same instant, on a freshly started server that has not loaded the room yet (the reference relay
 * without persistence holds it in memory, uploaded before). Time from the first socket opened
 * until the last client has the whole history; each client's time; the server's peak RSS (its
 * whole life, which is the start plus the storm) and its CPU during the storm. Two clients check
 * what they received by applying it and counting the messages; the others count bytes. The raw
 * relay cannot run it: it holds no history to send.
 */

const ABLE: readonly PeerName[] = ['parley', 'y-relay', 'y-relay-leveldb', 'hocuspocus'];
const QUICK = { messages: 20_000, clients: 50 };
const FULL = { messages: 100_000, clients: 200 };

async function joinStorm(peer: PeerName, sizes: typeof QUICK): Promise<Figure[]> {
  const seed = seedHistory(sizes.messages);
  return withSeeded(peer, seed, sizes.clients, async (seeded) => {
    const server = seeded.server;
    const session = new Session(server);
    try {
      const before = await server.probe();
      const watchers = seeded.room.members.map((_, i) => fullSyncWatcher(seed.update.byteLength, i === 0 || i === sizes.clients - 1 ? holdsHistory(seed) : undefined));
      const start = performance.now();
      seeded.room.members.forEach((m, i) => {
        const { url, docName } = server.endpoint(seeded.room.roomId, m.token);
        session.open({ url, docName, protocol: server.traits.protocol, token: m.token, label: `client ${i}`, onUpdate: watchers[i]?.onUpdate });
      });
      const done = await session.wait(Promise.all(watchers.map((w) => w.done)), 'join storm', 180_000);
      const times = done.map((at) => at - start);
      const after = await server.probe();
      const totalMs = Math.max(...times);
      for (const [i, w] of watchers.entries()) if (w.kept.length > 0) verifyHistory(w.kept, seed, `client ${i}`);
      const label = `${sizes.clients} clients, ${sizes.messages / 1000}k room`;
      return [
        {
          metric: `${label}: time until all synced`,
          value: totalMs,
          unit: 'ms',
          note: `first socket opened -> last client has the whole history (${(seed.update.byteLength / MiB).toFixed(1)} MiB each); server ${((after.cpuMs - before.cpuMs) / totalMs).toFixed(2)} cores`,
          peer,
          better: 'lower',
        },
        { metric: `${label}: per-client sync p50`, value: quantile(times, 0.5), unit: 'ms', note: 'from the first socket opened', peer, better: 'lower' },
        {
          metric: `${label}: peak server RSS`,
          value: after.peakRssBytes / MiB,
          unit: 'MiB',
          note: `process lifetime peak (start + storm${peer === 'y-relay' ? ' + the upload' : ''}); ${(before.rssBytes / MiB).toFixed(0)} MiB before the storm`,
          peer,
          better: 'lower',
        },
      ];
    } finally {
      await session.closeAll();
    }
  });
}

const scenario: Scenario = {
  name: 'peerJoinStorm',
  description: 'Servers that hold history: 200 clients (quick: 50) join one room of 100k messages (quick: 20k) at once: time until all synced, peak server RSS',
  async run(opts: RunOptions): Promise<Figure[]> {
    pinLoad();
    const sizes = opts.quick ? QUICK : FULL;
    return eachPeer('peerJoinStorm', selectedPeers(opts, ABLE), (peer) => joinStorm(peer, sizes));
  },
};

export default scenario;
