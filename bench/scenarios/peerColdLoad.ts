import { eachPeer, MiB, selectedPeers } from '../load/peerRun.ts';
import { type PeerName, pinLoad } from '../load/peerServer.ts';
import { fullSyncWatcher, seedHistory } from '../load/seed.ts';
import { holdsHistory, verifyHistory, withSeeded } from '../load/seededRoom.ts';
import { Session } from '../load/session.ts';
import { storageFileBytes } from '../load/storedBytes.ts';
import type { Figure, RunOptions, Scenario } from '../scenario.ts';
import { median } from '../stats.ts';

/*
 * Cold load: a room of 100,000 messages (quick: 20,000) in the server's storage, the server just
 * (re)started, one client opens the room: time from opening the socket until the client has
 * received the whole history (the server loaded the room from disk, encoded it and sent it),
 * checked afterwards by applying what it received and counting the messages. Then the storage
 * files per message. Only servers that store rooms can run it: not the raw relay (no document),
 * not the reference relay without persistence (nothing survives its restart).
 */

const ABLE: readonly PeerName[] = ['parley', 'y-relay-leveldb', 'hocuspocus'];
const QUICK = { messages: 20_000, restarts: 1 };
const FULL = { messages: 100_000, restarts: 3 };

async function coldLoad(peer: PeerName, sizes: typeof QUICK): Promise<Figure[]> {
  const seed = seedHistory(sizes.messages);
  return withSeeded(peer, seed, 1, async (seeded, dataDir) => {
    const times: number[] = [];
    let rss = 0;
    for (let r = 0; r < sizes.restarts; r++) {
      if (r > 0) await seeded.restart();
      const server = seeded.server;
      const session = new Session(server);
      try {
        const reader = seeded.room.members[0];
        if (!reader) throw new Error('no reader');
        const { url, docName } = server.endpoint(seeded.room.roomId, reader.token);
        const watcher = fullSyncWatcher(seed.update.byteLength, holdsHistory(seed));
        const start = performance.now();
        session.open({ url, docName, protocol: server.traits.protocol, token: reader.token, label: 'reader', onUpdate: watcher.onUpdate });
        const done = await session.wait(watcher.done, 'cold load');
        times.push(done - start);
        rss = Math.max(rss, (await server.probe()).rssBytes);
        verifyHistory(watcher.kept, seed, 'the reader');
      } finally {
        await session.closeAll();
      }
    }
    const exit = await seeded.server.stop();
    if (exit !== 0) throw new Error(`${peer} did not stop cleanly (${exit})`);
    const files = storageFileBytes(peer, dataDir);
    const label = `${sizes.messages / 1000}k room`;
    return [
      {
        metric: `${label}: time to first sync after restart`,
        value: median(times),
        unit: 'ms',
        note: `socket opened -> whole history received; median of ${sizes.restarts} restart(s); ${(seed.update.byteLength / MiB).toFixed(1)} MiB encoded`,
        peer,
        better: 'lower',
      },
      { metric: `${label}: server RSS with the room loaded`, value: rss / MiB, unit: 'MiB', note: 'after the first sync', peer, better: 'lower' },
      {
        metric: `${label}: storage files per message`,
        value: files / sizes.messages,
        unit: 'B/msg',
        note: `all files of its store after a clean stop; Yjs encoded ${(seed.update.byteLength / sizes.messages).toFixed(0)} B/msg; history seeded straight into storage`,
        peer,
        better: 'lower',
      },
    ];
  });
}

const scenario: Scenario = {
  name: 'peerColdLoad',
  description: 'Servers that store rooms: reopen a room of 100k messages (quick: 20k) after a restart: time to first sync, storage per message',
  async run(opts: RunOptions): Promise<Figure[]> {
    pinLoad();
    const sizes = opts.quick ? QUICK : FULL;
    return eachPeer('peerColdLoad', selectedPeers(opts, ABLE), (peer) => coldLoad(peer, sizes));
  },
};

export default scenario;
