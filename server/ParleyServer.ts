import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import type { Config } from './config.ts';
import type { Logger } from './log.ts';
import { openDatabase, type Db } from './storage/openDatabase.ts';
import { Directory } from './storage/Directory.ts';
import { SqliteUpdateStore } from './storage/SqliteUpdateStore.ts';
import { WorkerCompactor } from './storage/WorkerCompactor.ts';
import type { Compactor } from './storage/Compactor.ts';
import { TokenService, loadOrCreateDevSecret } from './auth/TokenService.ts';
import { PresenceTracker } from './presence/PresenceTracker.ts';
import { PresencePublisher } from './presence/PresencePublisher.ts';
import { CommitQueue } from './sync/CommitQueue.ts';
import { RoomRegistry } from './sync/RoomRegistry.ts';
import { SyncServer } from './sync/SyncServer.ts';
import { createValidatingGate } from './sync/validatingGate.ts';
import { RoomSummaries } from './sync/RoomSummaries.ts';
import { createApi } from './http/createApi.ts';
import { ConnectionSlots } from './sync/ConnectionSlots.ts';
import { CommandServer } from './commands/CommandServer.ts';

export interface RunningServer {
  /** http://HOST:PORT of the listening server (the real port when started on port 0). */
  readonly url: string;
  readonly port: number;
  /** The SQLite handle (for operations and fault-injection tests; the server owns it). */
  readonly db: Db;
  readonly directory: Directory;
  readonly registry: RoomRegistry;
  readonly compactor: Compactor;
  readonly tokens: TokenService;
  /** Stops accepting, closes every connection, commits and compacts every room, closes the database. */
  close(): Promise<void>;
}

/** Wires storage, auth, the sync server and the REST API onto one HTTP server and starts listening. */
export async function startServer(config: Config, logger: Logger): Promise<RunningServer> {
  const db = openDatabase(config.dbFile, { synchronous: config.sqliteSynchronous });
  const directory = new Directory(db);
  const store = new SqliteUpdateStore(db);
  const queue = new CommitQueue(store);
  const compactor = new WorkerCompactor(config.dbFile, config.sqliteSynchronous, logger);
  const tokens = new TokenService(config.jwtSecret ?? loadOrCreateDevSecret(config.dataDir));
  const tracker = new PresenceTracker();

  const summaries = new RoomSummaries(directory);
  const publisher = new PresencePublisher(directory, tracker);
  const registry = new RoomRegistry({
    store,
    compactor,
    queue,
    logger,
    gate: createValidatingGate(directory),
    idleMs: config.roomIdleMs,
    compactUpdates: config.compactUpdates,
    compactBytes: config.compactBytes,
    maxDocBytes: config.maxDocBytes,
    onLoaded: (room) => {
      summaries.update(room);
      publisher.roomLoaded(room);
    },
    onCommitted: (room) => summaries.schedule(room),
    onUnloaded: (roomId) => {
      summaries.forget(roomId);
      publisher.roomUnloaded(roomId);
    },
  });
  tracker.on((change) => {
    if (change.cause === 'disconnected') directory.presence.setLastSeen(change.userId, change.at);
    publisher.userChanged(change.userId);
  });

  const endpoints = {
    tokens,
    directory,
    registry,
    presence: tracker,
    logger,
    maxFrameBytes: config.maxFrameBytes,
    limits: config.syncLimits,
    // One cap per user across the sync and command endpoints.
    slots: new ConnectionSlots(config.syncLimits.maxConnectionsPerUser),
  };
  const sync = new SyncServer(endpoints);
  const commands = new CommandServer(endpoints);
  const api = createApi({
    directory,
    tokens,
    presence: tracker,
    logger,
    devLogin: { enabled: config.devLogin, tokenTtlSeconds: config.devTokenTtlSeconds },
    webAppDir: config.appDir,
    access: {
      membershipChanged(roomId, userId) {
        sync.recheckMember(roomId, userId);
        commands.recheckMember(roomId, userId);
        publisher.membershipChanged(roomId);
      },
      roomChanged(roomId) {
        sync.recheckRoom(roomId);
        commands.recheckRoom(roomId);
      },
    },
  });

  const server = http.createServer(getRequestListener(api.fetch));
  server.on('upgrade', (req, socket, head) => {
    if (sync.handleUpgrade(req, socket, head)) return;
    if (commands.handleUpgrade(req, socket, head)) return;
    socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;

  let closing: Promise<void> | null = null;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      await Promise.all([sync.close(), commands.close()]);
      publisher.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      registry.unloadAll();
      await compactor.close();
      db.close();
      logger.info('server stopped');
    })());

  return { url, port, db, directory, registry, compactor, tokens, close };
}
