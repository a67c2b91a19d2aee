/*
 * Over 350 lines for a reason: this is the one wiring file, where every subsystem is built and
 * connected in the order they depend on each other (storage, sync, segments, search, attachments,
 * endpoints); split up, that order would be spread over files that must not import each other.
 */
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { getRequestListener } from '@hono/node-server';
import { ConfigError, DB_FILE_NAME, checkOptions, defaultConfig, type Config } from './config.ts';
import { createLogger, loggerOfNode, type Logger } from './log.ts';
import type { Db } from './storage/openDatabase.ts';
import { openStorage } from './storage/openStorage.ts';
import type { DirectoryApi } from './storage/DirectoryApi.ts';
import { ClusterServices } from './routing/ClusterServices.ts';
import type { DirectoryEvent } from './cluster/DirectoryEvents.ts';
import type { FeedTarget } from './cluster/ClusterFeed.ts';
import { UploadRecords } from './attachments/UploadRecords.ts';
import { UserNames } from './storage/UserNames.ts';
import { ParleyError } from '../shared/errors/errorCodes.ts';
import type { Directory } from './storage/Directory.ts';
import { WorkerCompactor, steppedSqliteWrite } from './storage/WorkerCompactor.ts';
import type { Compactor } from './storage/Compactor.ts';
import { TokenService, loadOrCreateDevSecret } from './auth/TokenService.ts';
import { anyTokenVerifier, hostTokenVerifier, type TokenVerifier, type VerifyToken } from './auth/TokenVerifier.ts';
import { PresenceTracker } from './presence/PresenceTracker.ts';
import { PresencePublisher } from './presence/PresencePublisher.ts';
import { PresenceChanges } from './presence/PresenceChanges.ts';
import { CommitQueue } from './sync/CommitQueue.ts';
import { FramePacer } from './ws/FramePacer.ts';
import { UserRateLimiter } from './limits/UserRateLimiter.ts';
import { RoomRegistry } from './sync/RoomRegistry.ts';
import type { Room } from './sync/Room.ts';
import { SyncServer } from './sync/SyncServer.ts';
import { createValidatingGate } from './sync/validatingGate.ts';
import { RoomSummaries } from './sync/RoomSummaries.ts';
import { commitStages } from './sync/commit/commitStages.ts';
import { workerRoomLoader } from './sync/workerRoomLoader.ts';
import { SERVER_ORIGIN } from './sync/origins.ts';
import { RecentPages } from './segments/RecentPages.ts';
import { Segmenter } from './segments/Segmenter.ts';
import { ThreadSummaries } from './threads/ThreadSummaries.ts';
import { StoredSegments } from './segments/StoredSegments.ts';
import { workerStateReader } from './segments/StoredStateReader.ts';
import { roomOfDoc, segmentDocName } from '../shared/roomDoc/segments.ts';
import { RoomMemberships } from './access/RoomMemberships.ts';
import { refOf } from './storage/AttachmentRepo.ts';
import { scrubDeleted } from '../shared/roomDoc/scrubDeleted.ts';
import { createApi } from './http/createApi.ts';
import { ConnectionSlots } from './ws/ConnectionSlots.ts';
import { CommandServer } from './commands/CommandServer.ts';
import type { SyncLimits } from './limits/SyncLimits.ts';
import { UserFeed } from './feed/UserFeed.ts';
import { usersPresence } from './presence/usersPresence.ts';
import { createNotifications } from './notify/createNotifications.ts';
import { SearchWorker } from './search/SearchWorker.ts';
import { searchDbFileOf } from './search/openSearchDatabase.ts';
import { SearchIndexer } from './search/SearchIndexer.ts';
import { SearchBackfill } from './search/SearchBackfill.ts';
import { workerMessageRanges } from './search/StoredMessages.ts';
import { FsBlobStore } from './blobs/FsBlobStore.ts';
import { Attachments, BLOB_KEYS_LOCK } from './attachments/Attachments.ts';
import { advisoryLock } from './storage/pg/advisoryLock.ts';
import { AttachmentTracker } from './attachments/AttachmentTracker.ts';
import { AttachmentSweeper } from './attachments/AttachmentSweeper.ts';
import { StoredReferenceScan } from './attachments/StoredReferenceScan.ts';
import { workerStoredRefs } from './attachments/ReadStoredRefs.ts';
import { liveReferences } from './attachments/referenceChecks.ts';
import type { AttachmentSettings } from './config.ts';
import { ServerMetrics } from './metrics/ServerMetrics.ts';
import type { MetricsEndpoint } from './http/ApiDeps.ts';

/**
 * Options of createParleyServer: every setting of Config (README, "Configuration"), each
 * optional with the same default as its environment variable, plus what a host app plugs in.
 */
export interface ParleyServerOptions extends Partial<Omit<Config, 'syncLimits' | 'dbFile' | 'attachments'>> {
  /** Rate limits, connection cap and send-buffer limit; each field defaults as its PARLEY_* variable. */
  syncLimits?: Partial<SyncLimits>;
  /** Attachment limits and garbage collection; each field defaults as its PARLEY_ATTACHMENT_* variable. */
  attachments?: Partial<AttachmentSettings>;
  /**
   * The host app's own token check (any scheme: an asymmetric JWT, a session lookup). Without it
   * the server verifies HS256 JWTs signed with `jwtSecret`. With dev login on, tokens dev login
   * minted are accepted too.
   */
  verifyToken?: VerifyToken;
  /** A pino logger; default: one at `logLevel` on stdout. Either way every line carries `node` (`nodeId`). */
  logger?: Logger;
}

export interface ParleyServer {
  /** The settings in force (defaults filled in). */
  readonly config: Config;
  /** The REST API and the web app's files, as a Node request listener (mount it in any framework). */
  readonly handleRequest: http.RequestListener;
  /**
   * Takes a WebSocket upgrade on /sync/<roomId> or /ws/commands and returns true; returns false
   * for any other path, which the host app then handles (or refuses) itself.
   */
  handleUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): boolean;
  /**
   * Serves REST, app and sockets from the host's own HTTP server, which must have no request
   * handler of its own (otherwise route with handleRequest and handleUpgrade yourself).
   */
  attach(server: http.Server): void;
  /** Creates an HTTP server for Parley alone and listens (defaults: config.port and config.host). */
  listen(port?: number, host?: string): Promise<{ url: string; port: number }>;
  /** http://HOST:PORT once listen() resolved; null before, or when attached to a host's server. */
  readonly url: string | null;
  /** The SQLite handle (operations and fault-injection tests; the server owns it). */
  readonly db: Db;
  /** The SQLite file's synchronous directory (tools, tests); throws on PostgreSQL. */
  readonly directory: Directory;
  /** The directory on either backend. */
  readonly directoryApi: DirectoryApi;
  readonly registry: RoomRegistry;
  readonly compactor: Compactor;
  /** Keeps the full-text index in step with loaded rooms (docs/search.md; tests flush it). */
  readonly search: SearchIndexer;
  /** The search index's thread: searches, and `settled()` once every write sent is applied (tests). */
  readonly searchIndex: SearchWorker;
  /** Indexes stored documents the index never held (an upgraded database), in the background. */
  readonly searchBackfill: SearchBackfill;
  /** Attachment uploads and their garbage collection (docs/attachments.md). */
  readonly attachments: Attachments;
  /** Writes the attachment reference rows (tests flush it). */
  readonly attachmentTracker: AttachmentTracker;
  /** Attachment garbage collection: `sweep(now)` runs a pass at any clock. */
  readonly attachmentSweeper: AttachmentSweeper;
  /** Paces whole-room replies of big rooms (tests watch it). */
  readonly pacer: FramePacer;
  /** The built-in HS256 service: mints dev-login tokens and verifies them. */
  readonly tokens: TokenService;
  /** Stops accepting, closes every connection, commits and compacts every room, closes the database. */
  close(): Promise<void>;
}

/** Fills the defaults in and checks that some way to verify tokens exists. */
function resolveConfig(options: ParleyServerOptions): Config {
  const defaults = defaultConfig();
  const dataDir = path.resolve(options.dataDir ?? defaults.dataDir);
  const config: Config = {
    ...defaults,
    ...Object.fromEntries(Object.entries(options).filter(([key, value]) => value !== undefined && key !== 'verifyToken' && key !== 'logger')),
    dataDir,
    dbFile: path.join(dataDir, DB_FILE_NAME),
    syncLimits: { ...defaults.syncLimits, ...options.syncLimits },
    attachments: { ...defaults.attachments, ...options.attachments },
  };
  if (!config.jwtSecret && !config.devLogin && !options.verifyToken) {
    throw new ConfigError('createParleyServer needs verifyToken, a jwtSecret (at least 32 characters) or devLogin: true.');
  }
  checkOptions(config);
  return config;
}

/**
 * Builds a Parley server: storage, auth, the sync and command endpoints and the REST API, ready
 * to `listen()` on its own port or to `attach()` to the host app's HTTP server. Opens (and
 * creates) the SQLite file in `dataDir` at once.
 */
export function createParleyServer(options: ParleyServerOptions = {}): ParleyServer {
  const config = resolveConfig(options);
  const logger = options.logger ? loggerOfNode(options.logger, config.nodeId) : createLogger(config.logLevel, config.nodeId);
  // The SQLite file, or PostgreSQL (PARLEY_DATABASE_URL): the directory, the update log, the storage worker.
  const storage = openStorage(
    {
      dbFile: config.dbFile,
      sqliteSynchronous: config.sqliteSynchronous,
      databaseUrl: config.databaseUrl,
      ...(config.databaseTimeoutMs === undefined ? {} : { databaseTimeoutMs: config.databaseTimeoutMs }),
    },
    logger,
  );
  // What the request handlers and endpoints use: the directory's asynchronous face (either backend).
  const { directory: directoryApi, worker: storageWorker } = storage;
  // SQLite's synchronous directory, for the few reads made inside one synchronous step (see userName, uploads).
  const directory = storage.kind === 'sqlite' ? storage.sync : null;
  // Several nodes (PARLEY_REDIS_URL): ownership, routing, the directory's events, presence (docs/scale-out.md).
  const cluster =
    config.cluster && storage.kind === 'postgres'
      ? new ClusterServices({
          settings: config.cluster,
          nodeId: config.nodeId,
          logger,
          fencing: storage.updates,
          applyDirectoryEvent: (event) => applyDirectoryChange(event),
          resync: () => resyncDirectory(),
          onRoomLost: (roomId) => roomLost(roomId),
        })
      : null;
  // PostgreSQL: the upload records the validator checks, read ahead (synchronous reads elsewhere);
  // forgotten when a commit finds one gone.
  const uploadRecords = directory ? null : new UploadRecords(directoryApi);
  const queue =
    storage.kind === 'sqlite'
      ? new CommitQueue(storage.updates)
      : new CommitQueue(storage.updates, cluster ? { fences: (docNames) => cluster.ownership.fences(docNames), lost: (roomId) => cluster.ownership.lost(roomId) } : undefined, {
          onMissingUploads: (ids) => uploadRecords?.forget(ids),
        });
  const pgStore = storage.kind === 'postgres' ? storage.updates : null;
  const compactor = new WorkerCompactor(
    storageWorker,
    storage.kind === 'sqlite' ? steppedSqliteWrite(storage.updates) : (docName, snapshot, upToSeq) => storage.updates.compact(docName, snapshot, upToSeq, cluster?.ownership.fences([docName])),
    logger,
  );
  // PostgreSQL: the names events show, read ahead (synchronous reads elsewhere).
  const userNames = directory ? null : new UserNames(directoryApi);
  const tokens = new TokenService(config.jwtSecret ?? loadOrCreateDevSecret(config.dataDir));
  const verifier: TokenVerifier = options.verifyToken
    ? config.devLogin
      ? anyTokenVerifier([tokens, hostTokenVerifier(options.verifyToken)])
      : hostTokenVerifier(options.verifyToken)
    : tokens;
  const tracker = new PresenceTracker();
  if (cluster) {
    // Online on any node (docs/scale-out.md, "What crosses nodes"): this node's transitions go out, the others' come in.
    tracker.joinCluster(cluster.presence);
    cluster.presence.onElsewhere((change) =>
      change.kind === 'status' ? tracker.statusChangedElsewhere(change.userId) : tracker.elsewhere(change.userId, { nodeLost: change.nodeLost }),
    );
  }
  // What the update validator checks on every write, in memory per loaded room (RoomMemberships).
  const memberships = new RoomMemberships(directoryApi);

  const feed = new UserFeed({ directory: directoryApi, logger, presenceOf: (userIds) => usersPresence(directoryApi, tracker, userIds), keepaliveMs: config.feedKeepaliveMs });
  cluster?.feed.deliverTo(feed);
  // What this node decides for the user feed: its own devices, and with several nodes the others' too (ClusterFeed).
  const feedOut: FeedTarget = cluster?.feed ?? feed;
  const summaries: RoomSummaries = new RoomSummaries({
    directory: directoryApi,
    memberships,
    logger,
    onChanged: (changed) => feedOut.summariesChanged(changed),
    docs: {
      head: (roomId): Room | null => registry.get(roomId) ?? null,
      segment: (roomId, n) => registry.get(segmentDocName(roomId, n)) ?? null,
    },
  });
  const publisher = new PresencePublisher(directoryApi, tracker, logger);
  // The search index: its own file, written and searched by its own thread (docs/search.md).
  const searchWorker = new SearchWorker(
    config.databaseUrl
      ? { backend: 'postgres', url: config.databaseUrl, ...(config.databaseTimeoutMs === undefined ? {} : { queryTimeoutMs: config.databaseTimeoutMs }) }
      : { backend: 'sqlite', file: searchDbFileOf(config.dbFile) },
    logger,
  );
  const search = new SearchIndexer({ worker: searchWorker, logger });
  // The blob store opens (and sweeps the tmp/ a crash left) at once; requests await it, listen() too.
  const blobsReady = FsBlobStore.open(config.blobDir ?? path.join(config.dataDir, 'blobs'));
  blobsReady.catch((err: unknown) => logger.error({ err }, 'attachments: the blob store did not open'));
  const attachments = new Attachments({
    repo: directoryApi.attachments,
    blobs: () => blobsReady,
    settings: config.attachments,
    logger,
    // Several nodes sharing PostgreSQL (and a blob directory) order blob removals against uploads among themselves too; one node needs only its process lock.
    ...(cluster && storage.kind === 'postgres' ? { clusterLock: advisoryLock(storage.pool, BLOB_KEYS_LOCK) } : {}),
  });
  const attachmentTracker = new AttachmentTracker({ repo: directoryApi.attachments, logger });
  // Before an upload goes, the stored documents of its room are read into the references (a crash can lose the tracker's last rows).
  const storedReferences = new StoredReferenceScan({
    repo: directoryApi.attachments,
    docNamesOf: (roomId) => storage.updates.docNamesOf(roomId),
    read: workerStoredRefs(storageWorker),
    isLoaded: (docName) => registry.get(docName) !== undefined,
    writing: (job) => attachmentTracker.writing(job),
    logger,
  });
  const attachmentSweeper = new AttachmentSweeper({
    attachments,
    references: liveReferences(attachmentTracker, storedReferences),
    logger,
  });
  attachmentSweeper.start(config.attachments.gcIntervalMs);
  // Mentions and direct messages: to the recipient's devices (user feed), else the webhook (docs/notifications.md).
  const notifications = createNotifications({ directory: directoryApi, outbox: storage.outbox, webhook: config.webhook, logger, isConnected: (userId) => tracker.isOnline(userId), pushToDevices: (userId, list) => void feedOut.notify(userId, list),
  });
  // Never more than half the slow-consumer limit waits in a socket for a paced reply: a joiner on
  // a slow link downloads a big room at its link's speed instead of being closed for it.
  const pacer = new FramePacer({ highWaterBytes: Math.min(1024 * 1024, config.syncLimits.maxBufferedBytes / 2) });
  const registry: RoomRegistry = new RoomRegistry({
    ...(storage.kind === 'sqlite' ? { store: storage.updates } : { store: storage.updates, asyncStore: true as const }),
    compactor,
    queue,
    logger,
    gate: createValidatingGate(memberships, (roomId, id) => {
      // Made only for a new message that names attachments: SQLite by primary key, else what was read ahead (UploadRecords).
      if (uploadRecords) return uploadRecords.get(roomId, id);
      const record = directory?.attachments.get(id);
      return record && record.roomId === roomId ? { uploaderId: record.uploaderId, ref: refOf(record) } : null;
    }),
    prepare: (docName) => {
      const roomId = roomOfDoc(docName);
      // Several nodes: a document is loaded only by its room's owner (lease, then fence, then load).
      const owning = cluster && !cluster.ownership.owns(roomId) ? claimRoom(roomId) : null;
      const members = memberships.ready(roomId);
      // A room's presence too, so that its load sets it before anyone syncs (PresencePublisher; a
      // segment has no members of its own to read); read once the room is ours, so a refused claim
      // leaves no read behind.
      const ready = (): Promise<void> | null => (docName === roomId ? publisher.ready(docName) : null);
      const presence = owning ? owning.then(ready) : ready();
      return owning || members || presence ? Promise.all([owning, members, presence]).then(() => {}) : null;
    },
    idleMs: config.roomIdleMs,
    loader: workerRoomLoader(storageWorker),
    slicedLoadAboveBytes: config.slicedLoadAboveBytes,
    compactUpdates: config.compactUpdates,
    compactBytes: config.compactBytes,
    maxDocBytes: config.maxDocBytes,
    ...(config.memberGrowth ? { memberGrowth: config.memberGrowth } : {}),
    stages: commitStages({ summaries, segments: (batch) => segmenter.stage(batch), search: search.stage, attachments: attachmentTracker.stage }),
    beforeCommit: (room) => threads.beforeCommit(room),
    pacer,
    onLoaded: (room) => {
      // A deleted message's text that an earlier process left behind is cleared on load too.
      scrubDeleted(room.doc, SERVER_ORIGIN);
      threads.roomLoaded(room);
      segmenter.roomLoaded(room);
      recentPages.roomLoaded(room);
      void summaries.update(room);
      publisher.roomLoaded(room);
      notifications.roomLoaded(room);
      search.roomLoaded(room);
      searchBackfill?.roomLoaded(room.roomId);
      attachmentTracker.roomLoaded(room);
      storedReferences.docLoaded(room.roomId);
    },
    onUnloading: (room) => {
      summaries.writeRoom(room);
      search.roomUnloading(room);
      attachmentTracker.roomUnloading(room);
    },
    onUnloaded: (roomId) => {
      // The memberships (and, with several nodes, the room's lease) go with the room's last document.
      if (registry.docsOf(roomOfDoc(roomId)).next().done) {
        memberships.forget(roomOfDoc(roomId));
        void cluster?.ownership.release(roomOfDoc(roomId));
      }
      segmenter.roomUnloaded(roomId);
      threads.roomUnloaded(roomId);
      recentPages.roomUnloaded(roomId);
      summaries.forget(roomId);
      publisher.roomUnloaded(roomId);
      search.roomUnloaded(roomId);
      attachmentTracker.roomUnloaded(roomId);
    },
  });
  // SQLite only: a database upgraded from before the search index (PostgreSQL's schema has had it from the start).
  const searchBackfill =
    storage.kind === 'sqlite'
      ? new SearchBackfill({
          store: storage.updates,
          worker: searchWorker,
          readRange: workerMessageRanges(storageWorker),
          isLoaded: (docName) => registry.get(docName) !== undefined,
          logger,
        })
      : null;
  if (config.searchBackfill) searchBackfill?.start();
  else searchBackfill?.close();
  const segmenter = new Segmenter({ registry, logger });
  const threads = new ThreadSummaries({ registry, logger });
  const storedState = workerStateReader(storageWorker);
  const recentPages = new RecentPages({ registry, logger, reader: storedState });
  const storedSegments = new StoredSegments({ registry, reader: storedState, pacer, logger });
  compactor.onCompacted((outcome) => {
    if (outcome.ok && outcome.updatesMerged > 0) registry.get(outcome.roomId)?.compacted(outcome);
  });
  // Last seen stored on a last disconnection, then the rooms' presence and the feeds told (in order per user).
  const presenceChanges = new PresenceChanges({
    directory: directoryApi,
    logger,
    tell: (userId) => {
      publisher.userChanged(userId);
      feed.presenceChanged(userId);
    },
  });
  tracker.on((change) => presenceChanges.changed(change));

  const endpoints = {
    tokens: verifier,
    directory: directoryApi,
    // Read synchronously where command answers and room events are rendered (RoomEventFeed derives
    // events inside a Yjs transaction): SQLite's directory, else the names this node has seen (UserNames).
    userName: (userId: string) => (userNames ? userNames.name(userId) : (directory?.users.get(userId)?.name ?? null)),
    registry,
    presence: tracker,
    logger,
    maxFrameBytes: config.maxFrameBytes,
    limits: config.syncLimits,
    // One cap per user across the sync and command endpoints.
    slots: new ConnectionSlots(config.syncLimits.maxConnectionsPerUser),
    feed,
    storedSegments,
    ...(cluster ? { router: cluster.router } : {}),
    ...(uploadRecords ? { prefetch: (frame: Uint8Array) => uploadRecords.prefetch(frame) } : {}),
  };
  const commands = new CommandServer(endpoints);
  // Several nodes: /ws/internal serves other nodes' forwarded sync channels and command channels.
  const sync = new SyncServer({ ...endpoints, ...(config.cluster ? { internalSecret: config.cluster.secret, linkedCommands: commands } : {}) });
  // GET /metrics (README, "Metrics"): gauges read these when scraped; commits arrive on `parley:commit`.
  const metrics = config.metrics
    ? new ServerMetrics({
        nodeId: config.nodeId,
        syncConnections: () => sync.connections,
        commandConnections: () => commands.connections,
        documentsLoaded: () => registry.loadedCount,
        commitQueue: queue,
        ...(cluster
          ? {
              cluster: {
                roomsOwned: () => cluster.ownership.size,
                leasesTaken: () => cluster.ownership.taken,
                leasesLost: () => cluster.ownership.lostCount,
                links: () => cluster.links.size,
                forwardedFrames: () => cluster.links.forwardedFrames,
              },
            }
          : {}),
      })
    : null;
  const metricsEndpoint: MetricsEndpoint | undefined = metrics
    ? { token: config.metricsToken, scrape: async () => ({ contentType: metrics.contentType, text: await metrics.text() }) }
    : undefined;
  const api = createApi({
    directory: directoryApi,
    tokens: verifier,
    devTokens: tokens,
    presence: tracker,
    logger,
    search: searchWorker,
    attachments,
    metrics: metricsEndpoint,
    devLogin: { enabled: config.devLogin, tokenTtlSeconds: config.devTokenTtlSeconds },
    webAppDir: config.appDir,
    roomCreation: new UserRateLimiter(config.roomCreation),
    access: {
      membershipChanged(roomId, userId) {
        applyDirectoryChange({ type: 'membership', roomId, userId });
        cluster?.events.publish({ type: 'membership', roomId, userId });
      },
      roomChanged(roomId) {
        applyDirectoryChange({ type: 'room', roomId });
        cluster?.events.publish({ type: 'room', roomId });
      },
      memberSettingsChanged(roomId, userId) {
        applyDirectoryChange({ type: 'settings', roomId, userId });
        cluster?.events.publish({ type: 'settings', roomId, userId });
      },
    },
  });

  /** A directory change made here or on another node (DirectoryEvents): memberships re-read, connections rechecked, room lists told. */
  function applyDirectoryChange(event: DirectoryEvent): void {
    if (event.type === 'membership') {
      const { roomId, userId } = event;
      memberships.changed(roomId, userId).catch((err: unknown) => logger.error({ err, room: roomId, user: userId }, 'memberships: a changed member could not be read'));
      feed.roomChanged(roomId, { membersChanged: [userId] });
      void sync.recheckMember(roomId, userId);
      void commands.recheckMember(roomId, userId);
      publisher.membershipChanged(roomId);
    } else if (event.type === 'room') {
      feed.roomChanged(event.roomId);
      void sync.recheckRoom(event.roomId);
      void commands.recheckRoom(event.roomId);
    } else feed.memberSettingsChanged(event.roomId, event.userId);
  }
  /** Directory changes may have been missed (Redis was away): every loaded room's memberships and connections checked again. */
  function resyncDirectory(): void {
    const rooms = new Set([...registry.loaded()].map((room) => roomOfDoc(room.roomId)));
    for (const roomId of rooms) {
      memberships.changedRoom(roomId).catch((err: unknown) => logger.error({ err, room: roomId }, 'memberships: a room could not be read again'));
      applyDirectoryChange({ type: 'room', roomId });
    }
  }
  /** Another node owns the room now: its peers here are closed (they reopen and are routed there), its documents unloaded. */
  function roomLost(roomId: string): void {
    commands.roomMoved(roomId);
    for (const doc of [...registry.docsOf(roomId)]) {
      for (const peer of [...doc.peers()]) peer.close('OwnerUnavailable', 'the room moved to another node');
      registry.unload(doc.roomId);
    }
  }
  /** Takes the room for this node, or fails (the caller's peer or command is told to try again). */
  async function claimRoom(roomId: string): Promise<void> {
    const claim = await cluster?.ownership.claim(roomId);
    if (claim && !claim.owned) throw new ParleyError('owner_unavailable', `room ${roomId} is owned by ${claim.holder ?? 'another node'}; connect again`);
  }

  const handleRequest = getRequestListener(api.fetch);
  const handleUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer): boolean =>
    sync.handleUpgrade(req, socket, head) || commands.handleUpgrade(req, socket, head);
  /** Upgrades on a server Parley owns: anything not Parley's gets a 404. */
  const onOwnUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer): void => {
    if (!handleUpgrade(req, socket, head)) socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  };
  let ownServer: http.Server | null = null;
  let url: string | null = null;

  let closing: Promise<void> | null = null;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      storedReferences.close();
      await Promise.all([sync.close(), commands.close(), attachmentSweeper.stop()]);
      await Promise.all([presenceChanges.close(), publisher.close()]);
      const server = ownServer;
      if (server) {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
      }
      segmenter.stop();
      await registry.unloadAll();
      await summaries.close();
      searchBackfill?.close();
      search.close();
      await searchWorker.close();
      // Writes what the unloaded documents left; the database closes right after.
      await attachmentTracker.close();
      await notifications.close();
      await feed.close();
      pacer.stop();
      await compactor.close();
      // Every document is committed and unloaded: the leases go, so other nodes take the rooms at once.
      await cluster?.close();
      await storage.close();
      metrics?.close();
      logger.info('server stopped');
    })());

  return {
    config,
    handleRequest,
    handleUpgrade,
    attach(server) {
      server.on('request', handleRequest);
      server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => void handleUpgrade(req, socket, head));
    },
    async listen(port = config.port, host = config.host) {
      if (ownServer) throw new Error('listen() was already called');
      await Promise.all([blobsReady, storage.ready]);
      const server = http.createServer(handleRequest);
      server.on('upgrade', onOwnUpgrade);
      ownServer = server;
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      const bound = (server.address() as AddressInfo).port;
      const shown = host.includes(':') ? `[${host}]` : host;
      url = `http://${shown === '0.0.0.0' ? '127.0.0.1' : shown}:${bound}`;
      // Announced to the other nodes once it can be reached.
      await cluster?.start(url);
      return { url, port: bound };
    },
    get url() {
      return url;
    },
    get db(): Db {
      if (storage.kind !== 'sqlite') throw new Error('ParleyServer.db: the server runs on PostgreSQL (use directoryApi)');
      return storage.db;
    },
    get directory(): Directory {
      if (storage.kind !== 'sqlite') throw new Error('ParleyServer.directory: the server runs on PostgreSQL (use directoryApi)');
      return storage.sync;
    },
    directoryApi,
    registry,
    compactor,
    search,
    searchIndex: searchWorker,
    get searchBackfill(): SearchBackfill {
      if (!searchBackfill) throw new Error('ParleyServer.searchBackfill: SQLite only');
      return searchBackfill;
    },
    attachments,
    attachmentTracker,
    attachmentSweeper,
    pacer,
    tokens,
    close,
  };
}

export interface RunningServer extends ParleyServer {
  /** http://HOST:PORT of the listening server (the real port when started on port 0). */
  readonly url: string;
  readonly port: number;
}

/** createParleyServer from a loaded Config, listening on config.port and config.host. */
export async function startServer(config: Config, logger: Logger): Promise<RunningServer> {
  const { dbFile: _dbFile, ...options } = config;
  const server = createParleyServer({ ...options, logger });
  let listening: { url: string; port: number };
  try {
    listening = await server.listen();
  } catch (err) {
    await server.close();
    throw err;
  }
  // Not a spread: the SQLite-only getters (db, directory) must not be read here.
  return Object.defineProperties(Object.create(server) as RunningServer, { url: { value: listening.url }, port: { value: listening.port } });
}
