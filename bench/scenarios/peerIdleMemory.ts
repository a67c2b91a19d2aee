import * as Y from 'yjs';
import { createMessage } from '../../shared/roomDoc/messageOps.ts';
import { eachPeer, selectedPeers, withPeer } from '../load/peerRun.ts';
import { type PeerName, pinLoad } from '../load/peerServer.ts';
import { prepareRooms } from '../load/rooms.ts';
import { Session, sleep } from '../load/session.ts';
import type { Figure, RunOptions, Scenario } from '../scenario.ts';

/*
 * Memory per idle room: 200 rooms (quick: 50), each opened by one client that writes 20 messages
 * and then stays connected and silent. Server memory (after two full GCs in the server, through
 * the probe) against a baseline taken before any room: RSS and JS heap per loaded room, each with
 * its one idle connection. Then every client leaves and, after UNLOAD_WAIT_MS, memory is read
 * again: Parley unloads a room PARLEY_ROOM_IDLE_MS after its last connection (30 s by default, set
 * to 2 s here so the run is short), Hocuspocus and the relay with y-leveldb unload at once (after
 * storing), the relay without persistence never does (a room lives as long as the process). RSS
 * rarely shrinks once the heap has grown, so the heap figure is the one that shows an unload.
 * The raw relay holds no rooms and does not run it.
 */

const ABLE: readonly PeerName[] = ['parley', 'y-relay', 'y-relay-leveldb', 'hocuspocus'];
const QUICK = { rooms: 50 };
const FULL = { rooms: 200 };
const MESSAGES = 20;
const IDLE_MS = 2_000;
/** Parley's idle time, its compaction worker and the peers' debounced stores, with a margin. */
const UNLOAD_WAIT_MS = 6_000;
const KiB = 1024;

async function idleMemory(peer: PeerName, rooms: number): Promise<Figure[]> {
  const env: Record<string, string> = peer === 'parley' ? { PARLEY_ROOM_IDLE_MS: String(IDLE_MS) } : {};
  return withPeer(peer, env, async (server) => {
    const session = new Session(server);
    try {
      const prepared = await prepareRooms(server, rooms, 1);
      await sleep(500);
      const base = await server.probe({ gc: true });
      for (const [r, room] of prepared.entries()) {
        const member = room.members[0];
        if (!member) throw new Error('no member');
        const doc = new Y.Doc();
        const { url, docName } = server.endpoint(room.roomId, member.token, { parley: true });
        const client = session.open({ url, docName, protocol: server.traits.protocol, token: member.token, doc, label: `room ${r}` });
        await session.wait(client.synced, `room ${r} sync`);
        for (let i = 0; i < MESSAGES; i++) {
          const result = createMessage(doc, member.actor, { content: `idle room ${r} message ${i} `.padEnd(80, '.') });
          if (!result.ok) throw new Error(`${result.code}: ${result.message}`);
        }
        if (peer === 'parley') await session.wait(client.acknowledged(), `room ${r} ack`);
      }
      await session.wait(sleep(1_000), 'settle');
      const loaded = await server.probe({ gc: true });
      await session.closeAll();
      await session.wait(sleep(UNLOAD_WAIT_MS), 'unload wait');
      const left = await server.probe({ gc: true });
      const per = (bytes: number): number => bytes / rooms / KiB;
      const unload =
        peer === 'parley'
          ? `PARLEY_ROOM_IDLE_MS=${IDLE_MS}`
          : peer === 'y-relay'
            ? 'this relay keeps rooms in memory for good'
            : 'unloads when its last client leaves';
      return [
        { metric: 'loaded idle room: RSS per room', value: per(loaded.rssBytes - base.rssBytes), unit: 'KiB', note: `${rooms} rooms, ${MESSAGES} msgs and 1 idle connection each; after GC`, peer, better: 'lower' },
        { metric: 'loaded idle room: heap per room', value: per(loaded.heapUsedBytes - base.heapUsedBytes), unit: 'KiB', note: 'JS heap after GC', peer, better: 'lower' },
        { metric: 'after clients left: RSS per room', value: per(left.rssBytes - base.rssBytes), unit: 'KiB', note: `${UNLOAD_WAIT_MS / 1000} s after the last client left; ${unload}`, peer, better: 'lower' },
        { metric: 'after clients left: heap per room', value: per(left.heapUsedBytes - base.heapUsedBytes), unit: 'KiB', note: 'JS heap after GC', peer, better: 'lower' },
      ];
    } finally {
      await session.closeAll();
    }
  });
}

const scenario: Scenario = {
  name: 'peerIdleMemory',
  description: 'Servers that hold rooms: memory per loaded idle room (1 idle connection each), and after the clients left and idle rooms were unloaded',
  async run(opts: RunOptions): Promise<Figure[]> {
    pinLoad();
    const { rooms } = opts.quick ? QUICK : FULL;
    return eachPeer('peerIdleMemory', selectedPeers(opts, ABLE), (peer) => idleMemory(peer, rooms));
  },
};

export default scenario;
