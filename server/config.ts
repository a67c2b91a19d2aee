/*
 * Over 350 lines for a reason: every setting of the server, its environment variable, its flag,
 * its default and its check in one place, which README's configuration table follows line by line.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { DEFAULT_SYNC_LIMITS, type SyncLimits } from './limits/SyncLimits.ts';
import type { UserRateLimit } from './limits/UserRateLimiter.ts';
import { DEFAULT_MAX_DOC_BYTES } from './sync/RoomRegistry.ts';
import { PACKAGE_ROOT } from './packagePaths.ts';
import type { WebhookSettings } from './notify/WebhookSender.ts';

/** Where the build (Vite) writes the web app: dist/app of this package, whatever the working directory. */
export const DEFAULT_APP_DIR = path.join(PACKAGE_ROOT, 'dist', 'app');

const bool = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off'])
  .transform((v) => v === '1' || v === 'true' || v === 'yes' || v === 'on');
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
/** A positive rate that may be fractional (0.5 = one every two seconds). */
const rate = (max: number) => z.coerce.number().positive().max(max);

/** Where the server POSTs notifications for users with no connected device (docs/notifications.md). */
const WebhookUrlSchema = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });
/** The webhook's HMAC-SHA256 key; long enough not to be guessed. */
const WebhookSecretSchema = z.string().min(16, 'must be at least 16 characters');
/** A node's name in logs and metrics (and, with several nodes, in leases): safe in a label, a key and a log line. */
const NodeIdSchema = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1-64 characters of A-Z a-z 0-9 . _ -');
/** A PostgreSQL connection URL (docs/scale-out.md). */
const DatabaseUrlSchema = z.url({ protocol: /^postgres(ql)?$/, error: 'must be a postgres:// URL' });
/** A Redis connection URL. */
const RedisUrlSchema = z.url({ protocol: /^rediss?$/, error: 'must be a redis:// or rediss:// URL' });
/** What nodes authenticate their links with (/ws/internal); long enough not to be guessed. */
const ClusterSecretSchema = z.string().min(32, 'must be at least 32 characters');
/** Where the other nodes reach this one. */
const NodeUrlSchema = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });
/** The bearer token /metrics asks for when set; long enough not to be guessed. */
const MetricsTokenSchema = z.string().min(16, 'must be at least 16 characters');

/**
 * `<hostname>-<pid>`: unique among the processes of a host, and among hosts that have distinct
 * names. Characters a node id may not hold become `-`, and the hostname is cut so the whole fits 64.
 */
export function defaultNodeId(): string {
  const pid = `-${process.pid}`;
  const host = os.hostname().replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 64 - pid.length) || 'parley';
  return host + pid;
}

/**
 * Every setting, its environment variable, and its default. CLI flags (`--port 9000`) win
 * over the environment, which wins over the defaults. The README's configuration table is
 * this list.
 */
const EnvSchema = z.object({
  PORT: int(0, 65535).default(8787),
  /** Loopback by default so a dev server is not exposed by accident; set 0.0.0.0 to serve a network. */
  HOST: z.string().min(1).default('127.0.0.1'),
  PARLEY_DATA_DIR: z.string().min(1).default('./data'),
  /** Where attachment bytes are kept; several nodes share one directory (a shared volume). Default: <data dir>/blobs. */
  PARLEY_BLOB_DIR: z.string().min(1).optional(),
  /** The built web app served at `/` (`npm run build:app`); `off` serves none. Default: dist/app of this package. */
  PARLEY_APP_DIR: z.string().min(1).default(DEFAULT_APP_DIR),
  /** HS256 secret shared with the host app's backend (at least 32 bytes). */
  PARLEY_JWT_SECRET: z.string().min(32).optional(),
  /** Enables POST /api/auth/dev-login and a generated secret. Never in production. */
  PARLEY_DEV_LOGIN: bool.default(false),
  /** Lifetime of tokens minted by dev login, in seconds. */
  PARLEY_DEV_TOKEN_TTL: int(60, 30 * 86400).default(86400),
  PARLEY_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** This node's name, on every log line and every metric series: `<hostname>-<pid>` unless set. */
  PARLEY_NODE_ID: NodeIdSchema.default(defaultNodeId),
  /** GET /metrics in the Prometheus text format; 0 turns it off (404). */
  PARLEY_METRICS: bool.default(true),
  /** When set, /metrics asks for `Authorization: Bearer <this>` (401 otherwise); unset: open to whoever reaches the port. */
  PARLEY_METRICS_TOKEN: MetricsTokenSchema.optional(),
  /**
   * SQLite `synchronous` in WAL mode. FULL (the default): an acknowledged message survives a power
   * loss too, at one fsync per group commit. NORMAL: it survives a process crash, and the last
   * transactions before a power loss may be lost; an opt-in for hosts that accept that.
   */
  PARLEY_SQLITE_SYNCHRONOUS: z.enum(['NORMAL', 'FULL']).default('FULL'),
  /**
   * Largest WebSocket frame accepted, in bytes (1 MiB). On /ws/commands a larger frame, up to
   * twice this, is answered `payload_too_large` and the connection stays (docs/commands.md).
   */
  PARLEY_MAX_FRAME_BYTES: int(1024, 64 * 1024 * 1024).default(1024 * 1024),
  /** A room's stored size (snapshot plus log) past which updates are refused with 4513. */
  PARLEY_MAX_DOC_BYTES: int(1024, 16 * 1024 * 1024 * 1024).default(DEFAULT_MAX_DOC_BYTES),
  /**
   * A room stored larger than this many bytes is loaded off the event loop: the storage worker
   * reads and cuts it, and the main thread applies it in slices (frames wait until it is ready).
   */
  PARLEY_SLICED_LOAD_BYTES: int(0, 16 * 1024 * 1024 * 1024).default(64 * 1024),
  /** How long a room stays in memory after its last connection closes, in ms. */
  PARLEY_ROOM_IDLE_MS: int(0, 3_600_000).default(30_000),
  /** Compact a room's update log once it holds this many updates... */
  PARLEY_COMPACT_UPDATES: int(2, 1_000_000).default(500),
  /** ...or this many bytes. */
  PARLEY_COMPACT_BYTES: int(1024, 1024 * 1024 * 1024).default(1024 * 1024),
  /**
   * Sync frames (step 1/2, updates) one connection may send in a burst; over it closes with 4529.
   * Also the burst of frames of one /ws/commands connection, answered `rate_limited` past it.
   */
  PARLEY_RATE_BURST: int(1, 1_000_000).default(DEFAULT_SYNC_LIMITS.syncBurst),
  /** Sync frames (or command frames) per second one connection may sustain. */
  PARLEY_RATE_PER_SEC: rate(1_000_000).default(DEFAULT_SYNC_LIMITS.syncPerSecond),
  /** Awareness frames one connection may send in a burst (stock clients echo every change they receive). */
  PARLEY_AWARENESS_RATE_BURST: int(1, 1_000_000).default(DEFAULT_SYNC_LIMITS.awarenessBurst),
  /** Awareness frames per second one connection may sustain. */
  PARLEY_AWARENESS_RATE_PER_SEC: rate(1_000_000).default(DEFAULT_SYNC_LIMITS.awarenessPerSecond),
  /** Open sync and command connections per user, together, across all rooms; the next one closes with 4530. */
  PARLEY_MAX_CONNECTIONS_PER_USER: int(1, 100_000).default(DEFAULT_SYNC_LIMITS.maxConnectionsPerUser),
  /** Bytes waiting in a connection's send buffer before it counts as a slow consumer (4531). */
  PARLEY_MAX_BUFFERED_BYTES: int(64 * 1024, 1024 * 1024 * 1024).default(DEFAULT_SYNC_LIMITS.maxBufferedBytes),
  /** Documents one multiplexed sync socket may hold open at once (4530 for one more; the socket stays). */
  PARLEY_MAX_DOCS_PER_CONNECTION: int(1, 100_000).default(DEFAULT_SYNC_LIMITS.maxDocsPerConnection),
  /** Rooms one user may create in a burst over REST; past it, 429 with Retry-After. */
  PARLEY_ROOM_CREATE_BURST: int(1, 1_000_000).default(20),
  /** Rooms per minute one user may keep creating. */
  PARLEY_ROOM_CREATE_PER_MINUTE: rate(1_000_000).default(10),
  /**
   * Bytes one member may add to one room per hour (8 MiB), also the burst: 128 MiB at the default
   * room limit takes one member 15 hours, not seconds, so nobody fills a room before an owner can act.
   * 0 turns the limit off.
   */
  PARLEY_MEMBER_GROWTH_BYTES_PER_HOUR: int(0, 16 * 1024 * 1024 * 1024).default(8 * 1024 * 1024),
  /**
   * Index, in the background after start, the stored rooms the search index never held (an
   * upgraded database; docs/search.md). 0: leave them to their next load or `parley reindex`.
   */
  PARLEY_SEARCH_BACKFILL: bool.default(true),
  /** Largest attachment upload, in bytes (25 MiB); one byte more is 413 `payload_too_large` (docs/attachments.md). */
  PARLEY_ATTACHMENT_MAX_BYTES: int(1, 64 * 1024 * 1024 * 1024).default(25 * 1024 * 1024),
  /** Bytes of live attachments one user may have uploaded, across rooms (1 GiB); past it, 413 `quota_exceeded`. 0: no quota. */
  PARLEY_ATTACHMENT_QUOTA_BYTES: int(0, 1024 * 1024 * 1024 * 1024).default(1024 * 1024 * 1024),
  /** How long an upload no message refers to is kept before garbage collection removes it, in ms (24 h). */
  PARLEY_ATTACHMENT_GRACE_MS: int(0, 365 * 86_400_000).default(86_400_000),
  /** How often the attachment garbage collection runs, in ms (10 min); 0 turns the timer off (`parley gc-attachments` still runs it). */
  PARLEY_ATTACHMENT_GC_INTERVAL_MS: int(0, 86_400_000).default(600_000),
  /**
   * Storage on PostgreSQL instead of the SQLite file (docs/scale-out.md): the update log,
   * snapshots and the directory. Unset: SQLite in the data directory.
   */
  PARLEY_DATABASE_URL: DatabaseUrlSchema.optional(),
  /**
   * How long a PostgreSQL statement (or a connection attempt) may wait before it fails, in ms:
   * while PostgreSQL does not answer, a write waits this long and is then refused (its clients
   * reconnect and resend) rather than hanging.
   */
  PARLEY_DATABASE_TIMEOUT_MS: int(100, 600_000).default(10_000),
  /**
   * Several nodes: room ownership, node discovery and the directory's events in Redis. Needs
   * PARLEY_DATABASE_URL and PARLEY_CLUSTER_SECRET. Unset: one node.
   */
  PARLEY_REDIS_URL: RedisUrlSchema.optional(),
  /** What nodes authenticate their links to each other with (/ws/internal); required with PARLEY_REDIS_URL. */
  PARLEY_CLUSTER_SECRET: ClusterSecretSchema.optional(),
  /** Where the other nodes reach this one (http://host:port); default: the address it listens on. */
  PARLEY_NODE_URL: NodeUrlSchema.optional(),
  /** How long a room's owner keeps it without renewing its lease, in ms: after a node dies, its rooms move after at most this long. */
  PARLEY_LEASE_TTL_MS: int(1_000, 600_000).default(10_000),
  /** The notification webhook; unset: off (docs/notifications.md). */
  PARLEY_WEBHOOK_URL: WebhookUrlSchema.optional(),
  /** Signs every webhook request (X-Parley-Signature); required with PARLEY_WEBHOOK_URL. */
  PARLEY_WEBHOOK_SECRET: WebhookSecretSchema.optional(),
});

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  dbFile: string;
  /** Attachment bytes (PARLEY_BLOB_DIR); null: <dataDir>/blobs. */
  blobDir: string | null;
  /** The built web app's directory, or null to serve no app. */
  appDir: string | null;
  jwtSecret: string | undefined;
  devLogin: boolean;
  devTokenTtlSeconds: number;
  logLevel: z.infer<typeof EnvSchema>['PARLEY_LOG_LEVEL'];
  /** This node's name on every log line (`node`) and metric series (PARLEY_NODE_ID). */
  nodeId: string;
  /** Serve GET /metrics (PARLEY_METRICS). */
  metrics: boolean;
  /** The bearer token /metrics asks for (PARLEY_METRICS_TOKEN); null: none asked. */
  metricsToken: string | null;
  sqliteSynchronous: 'NORMAL' | 'FULL';
  maxFrameBytes: number;
  maxDocBytes: number;
  roomIdleMs: number;
  /** Rooms stored larger than this load in slices (PARLEY_SLICED_LOAD_BYTES). */
  slicedLoadAboveBytes: number;
  compactUpdates: number;
  compactBytes: number;
  /** Rate limits, connection cap and send-buffer limit of the sync endpoint. */
  syncLimits: SyncLimits;
  /** POST /api/rooms per user (PARLEY_ROOM_CREATE_BURST, PARLEY_ROOM_CREATE_PER_MINUTE). */
  roomCreation: UserRateLimit;
  /** Bytes one member may add to one room (PARLEY_MEMBER_GROWTH_BYTES_PER_HOUR); null: unlimited. */
  memberGrowth: UserRateLimit | null;
  /** Index stored rooms the search index never held, in the background (PARLEY_SEARCH_BACKFILL). */
  searchBackfill: boolean;
  /** The notification webhook (PARLEY_WEBHOOK_URL, PARLEY_WEBHOOK_SECRET); null: off. */
  webhook: WebhookSettings | null;
  /** Attachment limits and garbage collection (PARLEY_ATTACHMENT_*, docs/attachments.md). */
  attachments: AttachmentSettings;
  /** PostgreSQL's URL (PARLEY_DATABASE_URL); null: the SQLite file. */
  databaseUrl: string | null;
  /** How long a PostgreSQL statement may wait, in ms (PARLEY_DATABASE_TIMEOUT_MS, 10 s). */
  databaseTimeoutMs?: number;
  /** Several nodes (PARLEY_REDIS_URL and the settings it needs); null: one node. */
  cluster: ClusterSettings | null;
  /**
   * How long a user feed channel may send nothing before it sends a keepalive, in ms. No
   * environment variable: clients count on 15 s (FEED_KEEPALIVE_MS, the default); tests shorten it.
   */
  feedKeepaliveMs?: number;
}

export interface ClusterSettings {
  /** Redis (PARLEY_REDIS_URL). */
  redisUrl: string;
  /** The links' shared secret (PARLEY_CLUSTER_SECRET). */
  secret: string;
  /** Where the other nodes reach this one (PARLEY_NODE_URL); null: the address it listens on. */
  nodeUrl: string | null;
  /** A room lease's time to live, in ms (PARLEY_LEASE_TTL_MS). */
  leaseTtlMs: number;
}

export interface AttachmentSettings {
  /** Largest upload in bytes (PARLEY_ATTACHMENT_MAX_BYTES). */
  maxBytes: number;
  /** Live upload bytes per user (PARLEY_ATTACHMENT_QUOTA_BYTES); null: no quota. */
  quotaBytes: number | null;
  /** How long an upload no message holds is kept (PARLEY_ATTACHMENT_GRACE_MS). */
  graceMs: number;
  /** Garbage collection timer (PARLEY_ATTACHMENT_GC_INTERVAL_MS); 0: no timer. */
  gcIntervalMs: number;
}

export const CLI_USAGE = `Usage: parley serve [options]     run the sync server (also: parley [options])
       parley reindex [--room ID] [--data-dir DIR]
                                 rebuild the message search index (server stopped)
       parley gc-attachments [--data-dir DIR]
                                 remove unused attachments and blobs now (server stopped)
       parley --help             print this text
Options of serve:
  --port N          port to listen on (env PORT, default 8787; 0 picks a free port)
  --host H          address to bind (env HOST, default 127.0.0.1)
  --data-dir DIR    directory of the SQLite file (env PARLEY_DATA_DIR, default ./data)
  --app-dir DIR     built web app served at / (env PARLEY_APP_DIR, default dist/app; off: none)
  --dev             development mode: enables dev login (env PARLEY_DEV_LOGIN=1)
  --log-level L     fatal|error|warn|info|debug|trace|silent (env PARLEY_LOG_LEVEL)
  --node-id ID      this node's name in logs and metrics (env PARLEY_NODE_ID, default <hostname>-<pid>)
  --help            print this text`;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses the environment and command-line flags into a validated Config. */
export function loadConfig(env: NodeJS.ProcessEnv, argv: readonly string[]): Config {
  let flags;
  try {
    flags = parseArgs({
      args: [...argv],
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        'data-dir': { type: 'string' },
        'app-dir': { type: 'string' },
        dev: { type: 'boolean' },
        'log-level': { type: 'string' },
        'node-id': { type: 'string' },
        help: { type: 'boolean' },
      },
      strict: true,
    }).values;
  } catch (err) {
    throw new ConfigError(`${(err as Error).message}\n${CLI_USAGE}`);
  }
  const merged: Record<string, string | undefined> = { ...env };
  if (flags.port !== undefined) merged.PORT = flags.port;
  if (flags.host !== undefined) merged.HOST = flags.host;
  if (flags['data-dir'] !== undefined) merged.PARLEY_DATA_DIR = flags['data-dir'];
  if (flags['app-dir'] !== undefined) merged.PARLEY_APP_DIR = flags['app-dir'];
  if (flags.dev) merged.PARLEY_DEV_LOGIN = '1';
  if (flags['log-level'] !== undefined) merged.PARLEY_LOG_LEVEL = flags['log-level'];
  if (flags['node-id'] !== undefined) merged.PARLEY_NODE_ID = flags['node-id'];
  // Unset and empty variables both mean "use the default".
  for (const key of Object.keys(merged)) if (merged[key] === '') delete merged[key];

  const parsed = EnvSchema.safeParse(merged);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  if (!e.PARLEY_JWT_SECRET && !e.PARLEY_DEV_LOGIN) {
    throw new ConfigError('PARLEY_JWT_SECRET is required (at least 32 characters) unless dev mode is on (--dev or PARLEY_DEV_LOGIN=1).');
  }
  if (e.PARLEY_WEBHOOK_URL && !e.PARLEY_WEBHOOK_SECRET) {
    throw new ConfigError('PARLEY_WEBHOOK_SECRET is required with PARLEY_WEBHOOK_URL (at least 16 characters): every webhook request is signed with it.');
  }
  if (e.PARLEY_REDIS_URL && !e.PARLEY_DATABASE_URL) {
    throw new ConfigError('PARLEY_DATABASE_URL is required with PARLEY_REDIS_URL: several nodes share one PostgreSQL (a SQLite file belongs to one process).');
  }
  if (e.PARLEY_REDIS_URL && !e.PARLEY_CLUSTER_SECRET) {
    throw new ConfigError('PARLEY_CLUSTER_SECRET is required with PARLEY_REDIS_URL (at least 32 characters): nodes authenticate their links to each other with it.');
  }
  return toConfig(e);
}

/** Throws a ConfigError naming `option` when `value` fails `schema`. */
function checkOption(option: string, schema: z.ZodType, value: unknown): void {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new ConfigError(`${option} ${parsed.error.issues[0]?.message ?? 'is invalid'}`);
}

/** Checks the settings given to createParleyServer that have rules beyond their type, as the environment's are checked. */
export function checkOptions(config: Config): void {
  checkOption('nodeId', NodeIdSchema, config.nodeId);
  if (config.metricsToken !== null) checkOption('metricsToken', MetricsTokenSchema, config.metricsToken);
  if (config.databaseUrl !== null) checkOption('databaseUrl', DatabaseUrlSchema, config.databaseUrl);
  if (config.cluster) {
    if (config.databaseUrl === null) throw new ConfigError('cluster needs databaseUrl: several nodes share one PostgreSQL');
    checkOption('cluster.redisUrl', RedisUrlSchema, config.cluster.redisUrl);
    checkOption('cluster.secret', ClusterSecretSchema, config.cluster.secret);
    if (config.cluster.nodeUrl !== null) checkOption('cluster.nodeUrl', NodeUrlSchema, config.cluster.nodeUrl);
  }
  if (!config.webhook) return;
  checkOption('webhook.url', WebhookUrlSchema, config.webhook.url);
  checkOption('webhook.secret', WebhookSecretSchema, config.webhook.secret);
}

const AttachmentEnvSchema = EnvSchema.pick({
  PARLEY_ATTACHMENT_MAX_BYTES: true,
  PARLEY_ATTACHMENT_QUOTA_BYTES: true,
  PARLEY_ATTACHMENT_GRACE_MS: true,
  PARLEY_ATTACHMENT_GC_INTERVAL_MS: true,
});

/** The attachment settings alone, from the environment (`parley gc-attachments`, which needs no secret). */
export function attachmentSettingsFromEnv(env: NodeJS.ProcessEnv): AttachmentSettings {
  const present = Object.fromEntries(Object.entries(env).filter(([key, value]) => key.startsWith('PARLEY_ATTACHMENT_') && value !== ''));
  const parsed = AttachmentEnvSchema.safeParse(present);
  if (!parsed.success) throw new ConfigError(`Invalid configuration:\n${parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n')}`);
  return toAttachmentSettings(parsed.data);
}

function toAttachmentSettings(e: z.infer<typeof AttachmentEnvSchema>): AttachmentSettings {
  return {
    maxBytes: e.PARLEY_ATTACHMENT_MAX_BYTES,
    quotaBytes: e.PARLEY_ATTACHMENT_QUOTA_BYTES === 0 ? null : e.PARLEY_ATTACHMENT_QUOTA_BYTES,
    graceMs: e.PARLEY_ATTACHMENT_GRACE_MS,
    gcIntervalMs: e.PARLEY_ATTACHMENT_GC_INTERVAL_MS,
  };
}

/** Every setting at its default (no secret, dev login off): the base createParleyServer's options override. */
export function defaultConfig(): Config {
  return toConfig(EnvSchema.parse({}));
}

function toConfig(e: z.infer<typeof EnvSchema>): Config {
  const dataDir = path.resolve(e.PARLEY_DATA_DIR);
  return {
    port: e.PORT,
    host: e.HOST,
    dataDir,
    dbFile: path.join(dataDir, DB_FILE_NAME),
    blobDir: e.PARLEY_BLOB_DIR === undefined ? null : path.resolve(e.PARLEY_BLOB_DIR),
    appDir: e.PARLEY_APP_DIR === 'off' ? null : path.resolve(e.PARLEY_APP_DIR),
    jwtSecret: e.PARLEY_JWT_SECRET,
    devLogin: e.PARLEY_DEV_LOGIN,
    devTokenTtlSeconds: e.PARLEY_DEV_TOKEN_TTL,
    logLevel: e.PARLEY_LOG_LEVEL,
    nodeId: e.PARLEY_NODE_ID,
    metrics: e.PARLEY_METRICS,
    metricsToken: e.PARLEY_METRICS_TOKEN ?? null,
    sqliteSynchronous: e.PARLEY_SQLITE_SYNCHRONOUS,
    maxFrameBytes: e.PARLEY_MAX_FRAME_BYTES,
    maxDocBytes: e.PARLEY_MAX_DOC_BYTES,
    roomIdleMs: e.PARLEY_ROOM_IDLE_MS,
    slicedLoadAboveBytes: e.PARLEY_SLICED_LOAD_BYTES,
    compactUpdates: e.PARLEY_COMPACT_UPDATES,
    compactBytes: e.PARLEY_COMPACT_BYTES,
    syncLimits: {
      syncBurst: e.PARLEY_RATE_BURST,
      syncPerSecond: e.PARLEY_RATE_PER_SEC,
      awarenessBurst: e.PARLEY_AWARENESS_RATE_BURST,
      awarenessPerSecond: e.PARLEY_AWARENESS_RATE_PER_SEC,
      maxConnectionsPerUser: e.PARLEY_MAX_CONNECTIONS_PER_USER,
      maxBufferedBytes: e.PARLEY_MAX_BUFFERED_BYTES,
      maxDocsPerConnection: e.PARLEY_MAX_DOCS_PER_CONNECTION,
    },
    roomCreation: { burst: e.PARLEY_ROOM_CREATE_BURST, perMinute: e.PARLEY_ROOM_CREATE_PER_MINUTE },
    memberGrowth: e.PARLEY_MEMBER_GROWTH_BYTES_PER_HOUR === 0 ? null : { burst: e.PARLEY_MEMBER_GROWTH_BYTES_PER_HOUR, perMinute: e.PARLEY_MEMBER_GROWTH_BYTES_PER_HOUR / 60 },
    searchBackfill: e.PARLEY_SEARCH_BACKFILL,
    webhook: e.PARLEY_WEBHOOK_URL && e.PARLEY_WEBHOOK_SECRET ? { url: e.PARLEY_WEBHOOK_URL, secret: e.PARLEY_WEBHOOK_SECRET } : null,
    attachments: toAttachmentSettings(e),
    databaseUrl: e.PARLEY_DATABASE_URL ?? null,
    databaseTimeoutMs: e.PARLEY_DATABASE_TIMEOUT_MS,
    cluster:
      e.PARLEY_REDIS_URL && e.PARLEY_CLUSTER_SECRET
        ? { redisUrl: e.PARLEY_REDIS_URL, secret: e.PARLEY_CLUSTER_SECRET, nodeUrl: e.PARLEY_NODE_URL ?? null, leaseTtlMs: e.PARLEY_LEASE_TTL_MS }
        : null,
  };
}

/** The SQLite file inside the data directory. */
export const DB_FILE_NAME = 'parley.db';

export const wantsHelp = (argv: readonly string[]): boolean => argv.includes('--help');

/**
 * The data directory and database file of an offline command (`parley reindex`, `parley
 * gc-attachments`): `--data-dir`, else PARLEY_DATA_DIR, else the default; `exists` false when no
 * database is there.
 */
export function offlineDatabase(dataDirFlag: string | undefined, env: NodeJS.ProcessEnv | Record<string, string | undefined>): { dataDir: string; file: string; exists: boolean } {
  const dataDir = path.resolve(dataDirFlag ?? (env.PARLEY_DATA_DIR || defaultConfig().dataDir));
  const file = path.join(dataDir, DB_FILE_NAME);
  return { dataDir, file, exists: fs.existsSync(file) };
}
