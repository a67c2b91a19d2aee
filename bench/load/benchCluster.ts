import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startPostgres, type ThrowawayPostgres } from '../../test/support/postgres.ts';
import { startRedis, type ThrowawayRedis } from '../../test/support/redis.ts';
import { procStats, type RunningPeer, startPeer } from './peerServer.ts';
import { tempDir } from './peerRun.ts';
import { BENCH_SECRET } from './rooms.ts';

/*
 * Several Parley nodes for a benchmark (docs/scale-out.md): a throwaway PostgreSQL and Redis and
 * `nodes` compiled `parley serve` processes on them, each with its defaults but for what a
 * cluster needs (PARLEY_DATABASE_URL, PARLEY_REDIS_URL, PARLEY_CLUSTER_SECRET, PARLEY_NODE_ID).
 */

export interface BenchCluster {
  readonly nodes: RunningPeer[];
  readonly postgres: ThrowawayPostgres;
  readonly redis: ThrowawayRedis;
  /** CPU ms used so far by PostgreSQL's processes and by Redis (from /proc). */
  engineCpuMs(): { postgres: number; redis: number };
  stop(): Promise<void>;
}

/** The processes whose command line names `needle` (Linux /proc). */
function processesNaming(needle: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(join('/proc', entry, 'cmdline'), 'utf8').includes(needle)) pids.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return pids;
}

/** CPU ms of every process whose command line names `needle`. */
const cpuOfProcesses = (needle: string): number => processesNaming(needle).reduce((sum, pid) => sum + (procStats(pid)?.cpuMs ?? 0), 0);

/**
 * Lets the processes naming `needle` run on every core: started by the bench process, they
 * inherit its pinning to the load generator's core (pinLoad), which the figures must not suffer.
 * PostgreSQL's postmaster passes it on to the backends it forks later.
 */
function unpin(needle: string): void {
  for (const pid of processesNaming(needle)) {
    try {
      execFileSync('taskset', ['-a', '-p', '-c', `0-${os.availableParallelism() - 1}`, String(pid)], { stdio: 'ignore' });
    } catch {
      // Gone meanwhile, or no taskset: then nothing was pinned either.
    }
  }
}

export async function startBenchCluster(nodes: number, env: Record<string, string> = {}): Promise<BenchCluster> {
  const [postgres, redis] = await Promise.all([startPostgres(), startRedis()]);
  const redisNeedle = `127.0.0.1:${new URL(redis.url).port}`;
  const postgresNeedles = [`-p\0${postgres.port}`, 'postgres: '];
  for (const needle of [redisNeedle, ...postgresNeedles]) unpin(needle);
  const databaseUrl = await postgres.createDatabase();
  const secret = randomBytes(32).toString('hex');
  const dirs: Array<{ remove: () => void }> = [];
  const running: RunningPeer[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(running.splice(0).map((node) => node.stop()));
    await Promise.all([postgres.stop(), redis.stop()]);
    for (const dir of dirs) dir.remove();
  };
  try {
    for (let i = 1; i <= nodes; i++) {
      const dir = tempDir(`parley-bench-node-${i}-`);
      dirs.push(dir);
      running.push(
        await startPeer('parley', {
          dataDir: dir.dir,
          secret: BENCH_SECRET,
          env: { PARLEY_DATABASE_URL: databaseUrl, PARLEY_REDIS_URL: redis.url, PARLEY_CLUSTER_SECRET: secret, PARLEY_NODE_ID: `node-${i}`, PARLEY_APP_DIR: 'off', ...env },
        }),
      );
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    nodes: running,
    postgres,
    redis,
    engineCpuMs: () => ({ postgres: postgresNeedles.reduce((sum, needle) => sum + cpuOfProcesses(needle), 0), redis: cpuOfProcesses(redisNeedle) }),
    stop,
  };
}
