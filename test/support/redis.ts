import { Redis, type RedisOptions } from 'ioredis';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { freePort } from './clientHarness.ts';
import { firstExisting, type LocalService, serviceSuiteName, serviceTestsRun, startLocalService, stopLocalService } from './localService.ts';
import { makeTempDir } from './tempDir.ts';

const BIN = firstExisting([process.env.REDIS_SERVER ?? '/usr/bin/redis-server']);
export const redisTestsRun = (): boolean => serviceTestsRun(BIN);
export const redisSuiteName = (name: string): string => serviceSuiteName(name, BIN, 'redis-server');

/** A Redis server of a test's own, on a free port, with no persistence: a restart forgets everything. */
export interface ThrowawayRedis {
  readonly url: string;
  /** Stops it and starts it again on the same port, empty (a Redis restart without persistence). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function startRedis(): Promise<ThrowawayRedis> {
  if (!BIN) throw new Error('no redis-server: apt-get install -y redis-server (or set REDIS_SERVER)');
  const binary = BIN;
  const tmp = makeTempDir('parley-redis-');
  const port = await freePort();
  const launch = (): Promise<LocalService> =>
    startLocalService(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', tmp.dir], /Ready to accept connections/);
  let server = await launch();
  return {
    url: `redis://127.0.0.1:${port}`,
    async restart() {
      await stopLocalService(server, 'SIGKILL');
      server = await launch();
    },
    async stop() {
      await stopLocalService(server);
      tmp.remove();
    },
  };
}

/**
 * Watches for Redis expiring `key` (keyspace notifications: an event, not a poll); `expired`
 * resolves when it does. The watching connection is closed by `close`.
 */
export async function watchExpiry(url: string, key: string): Promise<{ expired: Promise<void>; close: () => void }> {
  const sub = new Redis(url);
  await sub.config('SET', 'notify-keyspace-events', 'Ex');
  await sub.subscribe('__keyevent@0__:expired');
  const expired = new Promise<void>((resolve) => sub.on('message', (_channel: string, expiredKey: string) => expiredKey === key && resolve()));
  return { expired, close: () => sub.disconnect() };
}

/** One Redis server for the calling suite, and its clients and clean-ups undone after each test. */
export interface RedisSuite {
  readonly url: string;
  /** A client to the suite's server, disconnected after the test. */
  client(options?: RedisOptions): Redis;
  /** Runs `fn` after the test (in reverse order of registration). */
  afterTest(fn: () => unknown): void;
  restart(): Promise<void>;
}

/**
 * Starts a Redis for the calling describe block (beforeAll, when redisTestsRun()), stops it after
 * (afterAll), and undoes each test's clients and clean-ups (afterEach).
 */
export function useRedis(): RedisSuite {
  let redis: ThrowawayRedis | undefined;
  const cleanups: Array<() => unknown> = [];
  const started = (): ThrowawayRedis => {
    if (!redis) throw new Error('Redis did not start');
    return redis;
  };
  beforeAll(async () => {
    if (redisTestsRun()) redis = await startRedis();
  }, 30_000);
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  afterAll(() => redis?.stop());
  return {
    get url() {
      return started().url;
    },
    client(options = {}) {
      const made = new Redis(started().url, options);
      cleanups.push(() => made.disconnect());
      return made;
    },
    afterTest: (fn) => void cleanups.push(fn),
    restart: () => started().restart(),
  };
}
