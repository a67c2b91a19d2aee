import { describe, expect, test } from 'vitest';
import { createLogger } from '../log.ts';
import { NodeRegistry } from './NodeRegistry.ts';
import { redisSuiteName, redisTestsRun, useRedis, watchExpiry } from '../../test/support/redis.ts';

const it = redisTestsRun() ? test : test.skip;
const logger = createLogger('silent');

describe(redisSuiteName('NodeRegistry: which nodes are alive and where (a real Redis)'), () => {
  const redis = useRedis();
  const client = () => redis.client({ maxRetriesPerRequest: 0 });

  it("finds a node's address while it runs, and not after it stopped", async () => {
    const a = new NodeRegistry({ redis: client(), nodeId: 'node-a', url: 'ws://10.0.0.5:8787', logger });
    const b = new NodeRegistry({ redis: client(), nodeId: 'node-b', url: 'ws://10.0.0.6:8787', logger });
    await a.start();
    expect(await b.urlOf('node-a')).toBe('ws://10.0.0.5:8787');
    expect(await b.urlOf('node-x')).toBeNull();
    await a.close();
    expect(await b.urlOf('node-a')).toBeNull();
    await b.close();
  });

  it('a node that dies without a word is gone once its TTL runs out; renewals keep a live one', async () => {
    const { expired, close } = await watchExpiry(redis.url, 'parley:node:node-dead');
    redis.afterTest(close);
    const deadClient = client();
    const dead = new NodeRegistry({ redis: deadClient, nodeId: 'node-dead', url: 'ws://10.0.0.7:8787', logger, ttlMs: 200 });
    const alive = new NodeRegistry({ redis: client(), nodeId: 'node-alive', url: 'ws://10.0.0.8:8787', logger, ttlMs: 200 });
    await Promise.all([dead.start(), alive.start()]);
    // Its connection is cut, so it can neither renew nor delete its entry.
    deadClient.disconnect();
    await expired;
    expect(await alive.urlOf('node-dead')).toBeNull();
    expect(await alive.urlOf('node-alive')).toBe('ws://10.0.0.8:8787');
    await alive.close();
  });

  it('refuses an address that is not a URL, and ignores a malformed entry in Redis', async () => {
    expect(() => new NodeRegistry({ redis: client(), nodeId: 'node-a', url: 'not a url', logger })).toThrow();
    const raw = client();
    await raw.set('parley:node:node-m', 'javascript:alert(1)');
    const b = new NodeRegistry({ redis: client(), nodeId: 'node-b', url: 'ws://10.0.0.6:8787', logger });
    expect(await b.urlOf('node-m')).toBeNull();
  });
});
