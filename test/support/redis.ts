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
