import type pg from 'pg';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import * as Y from 'yjs';
import { createLogger } from '../log.ts';
import { InlineCompactor } from '../storage/InlineCompactor.ts';
import { MemoryUpdateStore } from '../storage/MemoryUpdateStore.ts';
import { openPostgres } from '../storage/pg/openPostgres.ts';
import { PgUpdateStore } from '../storage/pg/PgUpdateStore.ts';
import { CommitQueue } from '../sync/CommitQueue.ts';
import { Room } from '../sync/Room.ts';
import { CORE_COMMIT_STAGES } from '../sync/commit/commitStages.ts';
import { RoomOwnership } from './RoomOwnership.ts';
import { RedisLeases } from './RedisLeases.ts';
import { encodeFrame } from '../../shared/protocol/frames.ts';
import { uuidv4 } from '../../shared/ids.ts';
import { MemoryPeer } from '../../test/support/memoryPeer.ts';
import { writerReplica, contentsOf } from '../../test/support/writerReplica.ts';
import { postgresTestsRun, startPostgres, type ThrowawayPostgres } from '../../test/support/postgres.ts';
import { redisTestsRun, startRedis, type ThrowawayRedis, watchExpiry } from '../../test/support/redis.ts';
import { serviceSuiteName } from '../../test/support/localService.ts';

/*
 * Two nodes in one process, each with its own connections to a real PostgreSQL and a real Redis:
 * leases say who should own a document, fences decide whose commits are stored
 * (docs/scale-out.md). A node cut off from Redis keeps believing it owns its documents; the
 * fence refuses it once another node took over.
 */

const runs = postgresTestsRun() && redisTestsRun();
const it = runs ? test : test.skip;
const suiteName = runs ? 'room ownership across two nodes (a real PostgreSQL and Redis)' : serviceSuiteName('room ownership across two nodes', null, 'postgresql redis-server');
const ana = { id: uuidv4(), name: 'Ana' };
const logger = createLogger('silent');

describe(suiteName, () => {
  let postgres: ThrowawayPostgres | undefined;
  let redis: ThrowawayRedis | undefined;
  const cleanups: Array<() => unknown> = [];
  beforeAll(async () => {
    if (!runs) return;
    [postgres, redis] = await Promise.all([startPostgres(), startRedis()]);
  }, 60_000);
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  afterAll(async () => {
    await postgres?.stop();
    await redis?.stop();
  });

  /** A node: its own pool, Redis connection, ownership and commit queue, on the shared database. */
  async function node(url: string, nodeId: string, ttlMs: number) {
    if (!redis) throw new Error('Redis did not start');
    const pool: pg.Pool = await openPostgres(url);
    const client = new Redis(redis.url, { maxRetriesPerRequest: 0, lazyConnect: false });
    const store = new PgUpdateStore(pool);
    const lostDocs: string[] = [];
    const ownership = new RoomOwnership({ leases: new RedisLeases(client, nodeId, ttlMs), fencing: store, logger, onLost: (roomId) => lostDocs.push(roomId) });
    const queue = new CommitQueue(store, ownership);
    const rooms: Room[] = [];
    cleanups.push(async () => {
      for (const room of rooms) room.destroy();
      await ownership.close().catch(() => {});
      client.disconnect();
      await pool.end();
    });
    /** Claims the document, then loads it (the order a takeover needs). */
    const open = async (docName: string): Promise<Room> => {
      const claim = await ownership.claim(docName);
      if (!claim.owned) throw new Error(`${nodeId} could not own ${docName} (held by ${claim.holder})`);
      const room = Room.fromStored(docName, await store.load(docName), {
        compactor: new InlineCompactor(new MemoryUpdateStore(), logger), queue, logger, stages: CORE_COMMIT_STAGES,
        gate: () => ({ ok: true, newClients: [] }), compactUpdates: 1000, compactBytes: 1 << 30, maxDocBytes: 1 << 20,
      });
      rooms.push(room);
      return room;
    };
    const stored = async (docName: string): Promise<string[]> => {
      const doc = new Y.Doc();
      const { snapshot, updates } = await store.load(docName);
      for (const update of [snapshot, ...updates]) if (update) Y.applyUpdate(doc, update);
      return contentsOf(doc);
    };
    return { ownership, queue, open, stored, lostDocs, cutFromRedis: () => client.disconnect() };
  }

  /** Watches for Redis expiring `key`; `expired` resolves when it does. */
  async function expiry(key: string): Promise<{ expired: Promise<void> }> {
    if (!redis) throw new Error('Redis did not start');
    const watch = await watchExpiry(redis.url, key);
    cleanups.push(watch.close);
    return watch;
  }

  it('a node cut off from Redis loses its document when the lease expires and another node takes it: its next commit is refused, nothing of it acknowledged', async () => {
    const url = await postgres!.createDatabase();
    const a = await node(url, 'node-a', 300);
    const b = await node(url, 'node-b', 300);
    const docName = uuidv4();
    const roomA = await a.open(docName);
    const writer = new MemoryPeer(ana);
    roomA.join(writer);
    const { doc: replica, write } = writerReplica(ana.id);
    roomA.receive(writer, encodeFrame({ type: 'update', update: write('acknowledged by A') }));
    await writer.until('ack');

    // A can no longer reach Redis (its renewals fail), so its lease runs out; B takes the document.
    const { expired } = await expiry(`parley:lease:${docName}`);
    a.cutFromRedis();
    await expired;
    expect(await b.ownership.claim(docName)).toMatchObject({ owned: true });
    const roomB = await b.open(docName);
    expect(a.ownership.owns(docName)).toBe(true);

    // A still believes it owns the room: its write is refused by the fence, and not acknowledged.
    roomA.receive(writer, encodeFrame({ type: 'update', update: write('refused: A no longer owns the room') }));
    await writer.until('ack', 2);
    expect(writer.framesOf('ack')).toHaveLength(1);
    expect(writer.closedWith?.name).toBe('StorageUnavailable');
    expect(a.lostDocs).toEqual([docName]);
    expect(a.ownership.owns(docName)).toBe(false);
    expect(await b.stored(docName)).toEqual(['acknowledged by A']);

    // The writer reconnects to B and sends what B lacks: the refused message and a new one.
    write('written after the reconnect');
    const again = new MemoryPeer(ana);
    roomB.join(again);
    roomB.receive(again, encodeFrame({ type: 'update', update: Y.encodeStateAsUpdate(replica, Y.encodeStateVector(roomB.doc)) }));
    await again.until('ack');
    expect(await b.stored(docName)).toEqual(['acknowledged by A', 'refused: A no longer owns the room', 'written after the reconnect']);
  });

  it('in one batch, the document lost is refused and the document still owned is stored and acknowledged', async () => {
    const url = await postgres!.createDatabase();
    const a = await node(url, 'node-a', 300);
    const b = await node(url, 'node-b', 300);
    const [lostDoc, keptDoc] = [uuidv4(), uuidv4()];
    const [lostRoom, keptRoom] = [await a.open(lostDoc), await a.open(keptDoc)];
    // B takes one of the two: A's lease on it expired while A could not renew.
    expect(await b.ownership.claim(lostDoc)).toEqual({ owned: false, holder: 'node-a' });
    const { expired } = await expiry(`parley:lease:${lostDoc}`);
    a.cutFromRedis();
    await expired;
    expect(await b.ownership.claim(lostDoc)).toMatchObject({ owned: true });

    const [w1, w2] = [new MemoryPeer(ana), new MemoryPeer(ana)];
    lostRoom.join(w1);
    keptRoom.join(w2);
    lostRoom.receive(w1, encodeFrame({ type: 'update', update: writerReplica(ana.id).write('into the lost room') }));
    keptRoom.receive(w2, encodeFrame({ type: 'update', update: writerReplica(ana.id).write('into the kept room') }));
    await w2.until('ack');
    expect(w2.closed).toBe(false);
    expect(w1.closedWith?.name).toBe('StorageUnavailable');
    expect(w1.framesOf('ack')).toEqual([]);
    expect(await b.stored(lostDoc)).toEqual([]);
    expect(await a.stored(keptDoc)).toEqual(['into the kept room']);
  });

  it('one owner at a time: a claim while another node holds the lease names the holder; a release hands it over at once', async () => {
    const url = await postgres!.createDatabase();
    const a = await node(url, 'node-a', 10_000);
    const b = await node(url, 'node-b', 10_000);
    const docName = uuidv4();
    const [first, second] = await Promise.all([a.ownership.claim(docName), a.ownership.claim(docName)]);
    expect(first).toEqual(second);
    expect(await b.ownership.claim(docName)).toEqual({ owned: false, holder: 'node-a' });
    await a.ownership.release(docName);
    const taken = await b.ownership.claim(docName);
    expect(taken.owned && first.owned && taken.fence > first.fence).toBe(true);
    expect(b.ownership.fences([docName, 'not-owned'])).toEqual(new Map([[docName, taken.owned ? taken.fence : -1]]));
  });

  it('renewals keep a lease past its TTL while the node is alive', async () => {
    if (!redis) throw new Error('Redis did not start');
    const url = await postgres!.createDatabase();
    const a = await node(url, 'node-a', 200);
    const b = await node(url, 'node-b', 200);
    const docName = uuidv4();
    const watcher = new Redis(redis.url);
    cleanups.push(() => watcher.disconnect());
    await watcher.config('SET', 'notify-keyspace-events', 'Eg');
    await watcher.subscribe('__keyevent@0__:expire');
    // Every renewal is a PEXPIRE: wait for five of them, more than a whole TTL.
    let renewals = 0;
    const renewed = new Promise<void>((resolve) => watcher.on('message', (_c: string, key: string) => key === `parley:lease:${docName}` && ++renewals === 5 && resolve()));
    const started = performance.now();
    await a.ownership.claim(docName);
    await renewed;
    expect(performance.now() - started).toBeGreaterThan(200);
    expect(await b.ownership.claim(docName)).toEqual({ owned: false, holder: 'node-a' });
  });
});
