import * as Y from 'yjs';
import { messageCount } from '../../shared/roomDoc/queries.ts';
import { type PeerName, type RunningPeer, startPeer } from './peerServer.ts';
import { BENCH_SECRET, type PreparedRoom, prepareRooms } from './rooms.ts';
import { type Seed, SEED_AUTHOR, fullSyncWatcher, seedStorage } from './seed.ts';
import { Session } from './session.ts';
import { tempDir, withLogTail } from './peerRun.ts';

/*
 * A server holding one room with a large seeded history, which no server process has loaded yet:
 * the server is started (to create the room on Parley), stopped, given the history in its storage,
 * and started again. The reference relay without persistence keeps rooms only in memory, so it
 * receives the history from a client instead (and keeps it after that client leaves).
 */

export interface SeededServer {
  /** The running server (a new one after each restart). */
  readonly server: RunningPeer;
  room: PreparedRoom;
  /** Stops and starts the server on the same data dir. */
  restart(): Promise<void>;
}

export async function startSeeded(peer: PeerName, dataDir: string, seed: Seed, members: number, env: Record<string, string> = {}): Promise<SeededServer> {
  const start = (): Promise<RunningPeer> => startPeer(peer, { dataDir, env, secret: BENCH_SECRET });
  let server = await start();
  try {
    const [room] = await prepareRooms(server, 1, members, [SEED_AUTHOR.userId]);
    if (!room) throw new Error('no room');
    const out: SeededServer = {
      get server() {
        return server;
      },
      room,
      async restart() {
        const exit = await server.stop();
        if (exit !== 0) throw new Error(`${peer} did not stop cleanly (${exit})`);
        server = await start();
      },
    };
    const exit = await server.stop();
    if (exit !== 0) throw new Error(`${peer} did not stop cleanly (${exit})`);
    const stored = await seedStorage(peer, dataDir, room.roomId, seed);
    server = await start();
    if (!stored) await uploadOverTheWire(server, room, seed);
    return out;
  } catch (error) {
    await server.stop();
    throw error;
  }
}

async function uploadOverTheWire(server: RunningPeer, room: PreparedRoom, seed: Seed): Promise<void> {
  const session = new Session(server);
  try {
    const doc = new Y.Doc();
    Y.applyUpdate(doc, seed.update);
    const { url, docName } = server.endpoint(room.roomId, '');
    // Its answer to the server's sync step 1 is the whole history.
    const uploader = session.open({ url, docName, protocol: server.traits.protocol, doc, label: 'uploader' });
    await session.wait(uploader.synced, 'uploader sync');
    const watcher = fullSyncWatcher(seed.update.byteLength);
    const checker = session.open({ url, docName, protocol: server.traits.protocol, label: 'upload check', onUpdate: watcher.onUpdate });
    await session.wait(watcher.done, 'upload check');
    await checker.close();
    await uploader.close();
    doc.destroy();
  } finally {
    await session.closeAll();
  }
}

/** How many messages the updates a client received hold, applied to a fresh doc. */
export function receivedMessages(kept: readonly Uint8Array[]): number {
  const doc = new Y.Doc();
  for (const update of kept) Y.applyUpdate(doc, update);
  const count = messageCount(doc);
  doc.destroy();
  return count;
}

/** A fullSyncWatcher check: the received updates hold the whole seeded history. */
export function holdsHistory(seed: Seed): (kept: readonly Uint8Array[]) => boolean {
  return (kept) => receivedMessages(kept) === seed.messages;
}

/** Checks what a client received holds the whole history. */
export function verifyHistory(kept: readonly Uint8Array[], seed: Seed, who: string): void {
  const count = receivedMessages(kept);
  if (count !== seed.messages) throw new Error(`${who} holds ${count} messages after sync, the room has ${seed.messages}`);
}

/** startSeeded on a fresh data dir; runs `fn`, then stops the server and removes the dir whatever happens. */
export async function withSeeded<T>(
  peer: PeerName,
  seed: Seed,
  members: number,
  fn: (seeded: SeededServer, dataDir: string) => Promise<T>,
  env: Record<string, string> = {},
): Promise<T> {
  const tmp = tempDir(`parley-bench-seeded-${peer}-`);
  let seeded: SeededServer | null = null;
  try {
    seeded = await startSeeded(peer, tmp.dir, seed, members, env);
    return await fn(seeded, tmp.dir);
  } catch (error) {
    throw withLogTail(error, peer, tmp.dir);
  } finally {
    if (seeded) await seeded.server.stop();
    tmp.remove();
  }
}
