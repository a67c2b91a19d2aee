import { describe, expect, test } from 'vitest';
import { RedisLeases } from './RedisLeases.ts';
import { redisSuiteName, redisTestsRun, useRedis, watchExpiry } from '../../test/support/redis.ts';

const it = redisTestsRun() ? test : test.skip;

describe(redisSuiteName('RedisLeases (a real Redis)'), () => {
  const redis = useRedis();
  const node = (nodeId: string, ttlMs = 10_000): RedisLeases => new RedisLeases(redis.client({ maxRetriesPerRequest: 1 }), nodeId, ttlMs);

  it('gives a document to one node at a time; only the holder renews or releases it', async () => {
    const a = node('node-a');
    const b = node('node-b');
    expect(await a.acquire('room-1')).toBe(true);
    expect(await b.acquire('room-1')).toBe(false);
    expect(await a.acquire('room-1')).toBe(true);
    expect(await b.renew('room-1')).toBe(false);
    await b.release('room-1');
    expect((await a.holder('room-1'))?.nodeId).toBe('node-a');
    expect(await a.renew('room-1')).toBe(true);
    // Another document is another lease.
    expect(await b.acquire('room-1:0')).toBe(true);
    await a.release('room-1');
    expect(await a.holder('room-1')).toBeNull();
    expect(await b.acquire('room-1')).toBe(true);
  });

  it('a lease not renewed expires, another node takes it, and the old holder can no longer renew', async () => {
    const a = node('node-a', 300);
    const b = node('node-b', 300);
    const watch = await watchExpiry(redis.url, 'parley:lease:room-2');
    try {
      expect(await a.acquire('room-2')).toBe(true);
      const holder = await a.holder('room-2');
      expect(holder?.nodeId).toBe('node-a');
      expect(holder?.ttlMs).toBeGreaterThan(0);
      expect(holder?.ttlMs).toBeLessThanOrEqual(300);
      await watch.expired;
      expect(await b.acquire('room-2')).toBe(true);
      expect(await a.renew('room-2')).toBe(false);
      expect(await a.acquire('room-2')).toBe(false);
    } finally {
      watch.close();
    }
  });

  it('after a Redis restart (no persistence) every lease is free again and can be taken', async () => {
    const a = node('node-a');
    const b = node('node-b');
    expect(await a.acquire('room-3')).toBe(true);
    await redis.restart();
    // The clients reconnect on their own (ioredis); the lease is gone.
    expect(await a.renew('room-3').catch(() => a.renew('room-3'))).toBe(false);
    expect(await b.acquire('room-3')).toBe(true);
  });
});
