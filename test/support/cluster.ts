import { randomBytes } from 'node:crypto';
import { type ChildServer, startChildServer, stopChildServer } from './childServer.ts';
import { postgresSuiteName, postgresTestsRun, startPostgres, type ThrowawayPostgres } from './postgres.ts';
import { redisSuiteName, redisTestsRun, startRedis, type ThrowawayRedis } from './redis.ts';
import { makeTempDir } from './tempDir.ts';

/** Whether the cluster suites run here: PostgreSQL and Redis are installed (or CI demands them). */
export const clusterTestsRun = (): boolean => postgresTestsRun() && redisTestsRun();

/** A cluster suite's name, carrying why it is skipped: PostgreSQL's reason, Redis's, or both. */
export const clusterSuiteName = (name: string): string => redisSuiteName(postgresSuiteName(name));

/** One Parley node of a test cluster: a real `parley serve` process. */
export interface ClusterNode {
  readonly id: string;
  readonly url: string;
  readonly server: ChildServer;
}

/**
 * Several Parley nodes on one throwaway PostgreSQL and Redis (docs/scale-out.md), each a process
 * of its own from source, on a free port, with a data directory of its own and one shared JWT
 * secret, so a token minted for one node is good on every node.
 */
export interface TestCluster {
  readonly postgres: ThrowawayPostgres;
  readonly redis: ThrowawayRedis;
  readonly databaseUrl: string;
  readonly jwtSecret: string;
  readonly nodes: ClusterNode[];
  /** Starts one more node (or node `id` again, after it stopped or was killed), `env` over the cluster's. */
  startNode(id?: string, env?: Record<string, string>): Promise<ClusterNode>;
  /** SIGKILL: the node dies without a word; resolves once the process is gone. */
  kill(node: ClusterNode): Promise<void>;
  /** Stops every node (resuming any a test paused with SIGSTOP), then PostgreSQL and Redis. */
  stop(): Promise<void>;
}

export interface ClusterOptions {
  readonly nodes: number;
  /** Extra environment for every node (PARLEY_LEASE_TTL_MS, say). */
  readonly env?: Record<string, string>;
}

export async function startCluster(options: ClusterOptions): Promise<TestCluster> {
  const [postgres, redis] = await Promise.all([startPostgres(), startRedis()]);
  const databaseUrl = await postgres.createDatabase();
  const jwtSecret = randomBytes(32).toString('hex');
  const clusterSecret = randomBytes(32).toString('hex');
  const dirs: Array<{ remove: () => void }> = [];
  const nodes: ClusterNode[] = [];
  let next = 1;
  const startNode = async (id = `node-${next++}`, env: Record<string, string> = {}): Promise<ClusterNode> => {
    const tmp = makeTempDir(`parley-${id}-`);
    dirs.push(tmp);
    const server = await startChildServer(['--port', '0', '--data-dir', tmp.dir, '--node-id', id], {
      PARLEY_JWT_SECRET: jwtSecret,
      PARLEY_DATABASE_URL: databaseUrl,
      PARLEY_REDIS_URL: redis.url,
      PARLEY_CLUSTER_SECRET: clusterSecret,
      PARLEY_APP_DIR: 'off',
      ...options.env,
      ...env,
    }, { fromSource: true });
    const node = { id, url: server.url, server };
    nodes.push(node);
    return node;
  };
  try {
    // One at a time: each node's schema migration would only wait for the first's advisory lock anyway.
    for (let i = 0; i < options.nodes; i++) await startNode();
  } catch (error) {
    await Promise.all(nodes.map((node) => stopChildServer(node.server)));
    await Promise.all([postgres.stop(), redis.stop()]);
    throw error;
  }
  return {
    postgres,
    redis,
    databaseUrl,
    jwtSecret,
    nodes,
    startNode,
    async kill(node) {
      node.server.child.kill('SIGKILL');
      await node.server.exited;
      nodes.splice(nodes.indexOf(node), 1);
    },
    async stop() {
      // A node a test paused (SIGSTOP) is resumed first, or it could not hear SIGTERM in time.
      for (const node of nodes) node.server.child.kill('SIGCONT');
      await Promise.all(nodes.splice(0).map((node) => stopChildServer(node.server)));
      await Promise.all([postgres.stop(), redis.stop()]);
      for (const dir of dirs) dir.remove();
    },
  };
}
