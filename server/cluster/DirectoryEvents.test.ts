import { describe, expect, test } from 'vitest';
import { createLogger } from '../log.ts';
import { type DirectoryEvent, DirectoryEvents } from './DirectoryEvents.ts';
import { redisSuiteName, redisTestsRun, useRedis } from '../../test/support/redis.ts';

const it = redisTestsRun() ? test : test.skip;

/** Something that happens later, awaited as a promise. */
function signal<T = void>(): { promise: Promise<T>; fire: (value: T) => void } {
  let fire!: (value: T) => void;
  const promise = new Promise<T>((resolve) => (fire = resolve));
  return { promise, fire };
}

describe(redisSuiteName('DirectoryEvents: directory changes across nodes (a real Redis)'), () => {
  const redis = useRedis();

  /** A node's bus: what it applied, how often it resynced, and a hook to wait for the next of either. */
  function node(nodeId: string) {
    const applied: DirectoryEvent[] = [];
    let resyncs = 0;
    let next = signal();
    const client = redis.client();
    const reader = redis.client();
    const events = new DirectoryEvents({
      redis: client,
      reader,
      nodeId,
      logger: createLogger('silent'),
      retryMs: 50,
      apply: (event) => {
        applied.push(event);
        next.fire();
      },
      resync: () => {
        resyncs++;
        next.fire();
      },
    });
    redis.afterTest(() => events.close());
    return {
      events,
      ready: events.ready,
      applied,
      resyncs: () => resyncs,
      /** Resolves when `check` holds, re-checked after each event or resync. */
      async until(check: () => boolean): Promise<void> {
        while (!check()) {
          await next.promise;
          next = signal();
        }
      },
    };
  }

  it("applies a node's own change at once and every other node's from the stream, each once", async () => {
    const a = node('node-a');
    const b = node('node-b');
    await Promise.all([a.ready, b.ready]);
    const removed: DirectoryEvent = { type: 'membership', roomId: 'room-1', userId: 'ben' };
    a.events.publish(removed);
    expect(a.applied).toEqual([removed]);
    await b.until(() => b.applied.length === 1);
    expect(b.applied).toEqual([removed]);

    const renamed: DirectoryEvent = { type: 'room', roomId: 'room-1' };
    b.events.publish(renamed);
    await a.until(() => a.applied.length === 2);
    expect(a.applied).toEqual([removed, renamed]);
    expect(b.applied).toEqual([removed, renamed]);
  });

  it('keeps the order of one node’s changes, and skips a malformed entry without stopping', async () => {
    const a = node('node-a');
    const b = node('node-b');
    await Promise.all([a.ready, b.ready]);
    const raw = redis.client();
    a.events.publish({ type: 'membership', roomId: 'r', userId: 'u1' });
    await b.until(() => b.applied.length === 1);
    await raw.xadd('parley:directory', '*', 'node', 'mallory', 'event', '{"type":"membership","roomId":""}');
    await raw.xadd('parley:directory', '*', 'node', 'mallory', 'event', 'not json');
    for (let i = 2; i <= 5; i++) a.events.publish({ type: 'membership', roomId: 'r', userId: `u${i}` });
    await b.until(() => b.applied.length === 5);
    expect(b.applied.map((e) => (e.type === 'membership' ? e.userId : ''))).toEqual(['u1', 'u2', 'u3', 'u4', 'u5']);
  });

  it('after a Redis restart a reader resyncs, a change made during the outage is published once Redis is back, and later changes flow again', async () => {
    const a = node('node-a');
    const b = node('node-b');
    await Promise.all([a.ready, b.ready]);
    a.events.publish({ type: 'room', roomId: 'before' });
    await b.until(() => b.applied.length === 1);

    await redis.restart();
    const during: DirectoryEvent = { type: 'membership', roomId: 'during', userId: 'ben' };
    a.events.publish(during);
    await b.until(() => b.resyncs() === 1);

    const check = redis.client();
    // A's retries land it in the new stream.
    await a.events.flushed();
    const stream = await check.xrange('parley:directory', '-', '+');
    expect(stream.some(([, fields]) => fields.includes(JSON.stringify(during)))).toBe(true);

    const after: DirectoryEvent = { type: 'settings', roomId: 'after', userId: 'ana' };
    a.events.publish(after);
    await b.until(() => b.applied.some((e) => e.roomId === 'after'));
    expect(b.resyncs()).toBe(1);
  });
});
