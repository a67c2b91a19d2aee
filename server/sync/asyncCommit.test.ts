import type pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import * as Y from 'yjs';
import { createLogger } from '../log.ts';
import { InlineCompactor } from '../storage/InlineCompactor.ts';
import { MemoryUpdateStore } from '../storage/MemoryUpdateStore.ts';
import { openPostgres } from '../storage/pg/openPostgres.ts';
import { PgUpdateStore } from '../storage/pg/PgUpdateStore.ts';
import { CommitQueue } from './CommitQueue.ts';
import { Room, type UpdateGate } from './Room.ts';
import { CORE_COMMIT_STAGES } from './commit/commitStages.ts';
import { encodeFrame } from '../../shared/protocol/frames.ts';
import { uuidv4 } from '../../shared/ids.ts';
import { MemoryPeer } from '../../test/support/memoryPeer.ts';
import { writerReplica, contentsOf } from '../../test/support/writerReplica.ts';
import { postgresSuiteName, postgresTestsRun, startPostgres, type ThrowawayPostgres } from '../../test/support/postgres.ts';

/*
 * The commit path over an asynchronous store (PostgreSQL, docs/scale-out.md): one batch in flight,
 * what is applied meanwhile waits for the next, and nobody hears "durable" of an update before
 * the database answered for it. Peers in memory, a real database.
 */

const it = postgresTestsRun() ? test : test.skip;
const ana = { id: uuidv4(), name: 'Ana' };
const ben = { id: uuidv4(), name: 'Ben' };
const gate: UpdateGate = (room, _peer, update) => {
  const clients = new Set([...Y.decodeUpdate(update).structs].map((s) => s.id.client));
  return { ok: true, newClients: [...clients].filter((c) => room.clientOwners.ownerOf(c) === undefined) };
};


describe(postgresSuiteName('commits to an asynchronous store (a real PostgreSQL)'), () => {
  let postgres: ThrowawayPostgres | undefined;
  let pool: pg.Pool | undefined;
  let room: Room | undefined;
  beforeAll(async () => {
    if (postgresTestsRun()) postgres = await startPostgres();
  }, 60_000);
  afterEach(async () => {
    room?.destroy();
    await pool?.end().catch(() => {});
    pool = undefined;
  });
  afterAll(() => postgres?.stop());

  async function open() {
    if (!postgres) throw new Error('PostgreSQL did not start');
    pool = await openPostgres(await postgres.createDatabase());
    const store = new PgUpdateStore(pool);
    const queue = new CommitQueue(store);
    const logger = createLogger('silent');
    const roomId = uuidv4();
    const memory = new MemoryUpdateStore();
    room = Room.fromStored(roomId, await store.load(roomId), { compactor: new InlineCompactor(memory, logger), queue, logger, gate, stages: CORE_COMMIT_STAGES, compactUpdates: 1000, compactBytes: 1 << 30, maxDocBytes: 1 << 20 });
    const stored = async (): Promise<Y.Doc> => {
      const doc = new Y.Doc();
      const { snapshot, updates } = await store.load(roomId);
      for (const update of [snapshot, ...updates]) if (update) Y.applyUpdate(doc, update);
      return doc;
    };
    return { room, queue, stored, pool };
  }

  it('acknowledges and relays only what its own commit stored; an update applied during the flight waits for the next', async () => {
    const { room, queue, stored } = await open();
    const writer = new MemoryPeer(ana);
    const reader = new MemoryPeer(ben);
    room.join(writer);
    room.join(reader);
    const client = writerReplica(ana.id);
    const first = client.write('first');
    room.receive(writer, encodeFrame({ type: 'update', update: first }));
    queue.flush();
    expect(queue.busy).toBe(true);
    // The first commit is on its way to the database: the second update is applied meanwhile.
    const afterFirst = Y.encodeStateVector(client.doc);
    room.receive(writer, encodeFrame({ type: 'update', update: client.write('second') }));
    queue.flush();
    expect(writer.framesOf('ack')).toEqual([]);
    expect(reader.framesOf('update')).toEqual([]);

    await writer.until('ack');
    const [ack] = writer.framesOf('ack');
    // The acknowledgement covers the first update only, although the document holds both by now.
    expect(Y.decodeStateVector(ack!.stateVector)).toEqual(Y.decodeStateVector(afterFirst));
    expect(reader.framesOf('update').map((f) => f.update)).toEqual([first]);

    await writer.until('ack', 2);
    expect(Y.decodeStateVector(writer.framesOf('ack')[1]!.stateVector)).toEqual(Y.decodeStateVector(Y.encodeStateVector(client.doc)));
    expect(reader.framesOf('update')).toHaveLength(2);
    expect(contentsOf(await stored())).toEqual(['first', 'second']);
    expect(queue.busy).toBe(false);
  });

  it('answers a step 1 after the commit that holds everything applied before it: the one in flight, or the next', async () => {
    const { room, queue, stored } = await open();
    const writer = new MemoryPeer(ana);
    const early = new MemoryPeer(ben);
    const late = new MemoryPeer(ben);
    for (const peer of [writer, early, late]) room.join(peer);
    const client = writerReplica(ana.id);
    const empty = Y.encodeStateVector(new Y.Doc());
    room.receive(writer, encodeFrame({ type: 'update', update: client.write('first') }));
    queue.flush();
    // Nothing pending, one commit in flight: the early joiner waits for it.
    room.receive(early, encodeFrame({ type: 'syncStep1', stateVector: empty }));
    room.receive(writer, encodeFrame({ type: 'update', update: client.write('second') }));
    // Applied after the flight began: the late joiner waits for the next commit.
    room.receive(late, encodeFrame({ type: 'syncStep1', stateVector: empty }));
    expect(early.framesOf('syncStep2')).toEqual([]);

    await early.until('syncStep2');
    expect(late.framesOf('syncStep2')).toEqual([]);
    expect(contentsOf(await stored())).toContain('first');

    await late.until('syncStep2');
    const reply = new Y.Doc();
    Y.applyUpdate(reply, late.framesOf('syncStep2')[0]!.update);
    expect(contentsOf(reply)).toEqual(['first', 'second']);
    expect(contentsOf(await stored())).toEqual(['first', 'second']);
  });

  it('a commit the database refuses acknowledges nothing, closes the writers with StorageUnavailable and fails what waited', async () => {
    const { room, queue, pool } = await open();
    const writer = new MemoryPeer(ana);
    const joiner = new MemoryPeer(ben);
    room.join(writer);
    room.join(joiner);
    room.receive(writer, encodeFrame({ type: 'update', update: writerReplica(ana.id).write('lost with the connection') }));
    let failed = false;
    room.whenCommitted(
      () => {},
      () => (failed = true),
    );
    // The database is out of reach: the pool is closed under the queue.
    await pool.end();
    queue.flush();
    await writer.until('ack');
    expect(writer.closedWith?.name).toBe('StorageUnavailable');
    expect(joiner.closedWith?.name).toBe('StorageUnavailable');
    expect(writer.framesOf('ack')).toEqual([]);
    expect(failed).toBe(true);
    expect(queue.busy).toBe(false);
  });

  it('while PostgreSQL does not answer, a commit fails after the query timeout with a retryable close and nothing acknowledged; once it answers again, writes are stored', async () => {
    if (!postgres) throw new Error('PostgreSQL did not start');
    const url = await postgres.createDatabase();
    pool = await openPostgres(url, { queryTimeoutMs: 500 });
    const store = new PgUpdateStore(pool);
    const queue = new CommitQueue(store);
    const logger = createLogger('silent');
    const roomId = uuidv4();
    const options = { compactor: new InlineCompactor(new MemoryUpdateStore(), logger), queue, logger, gate, stages: CORE_COMMIT_STAGES, compactUpdates: 1000, compactBytes: 1 << 30, maxDocBytes: 1 << 20 };
    room = Room.fromStored(roomId, await store.load(roomId), options);
    const writer = new MemoryPeer(ana);
    room.join(writer);
    const client = writerReplica(ana.id);
    postgres.pause();
    try {
      room.receive(writer, encodeFrame({ type: 'update', update: client.write('while the database is paused') }));
      await writer.until('ack');
    } finally {
      postgres.resume();
    }
    expect(writer.framesOf('ack')).toEqual([]);
    // 4503: a Parley client and a stock provider both reconnect and resend.
    expect(writer.closedWith?.name).toBe('StorageUnavailable');

    // The client reconnects: the room loads again from what is stored, and its resend is kept.
    room.destroy();
    room = Room.fromStored(roomId, await store.load(roomId), options);
    const again = new MemoryPeer(ana);
    room.join(again);
    room.receive(again, encodeFrame({ type: 'update', update: Y.encodeStateAsUpdate(client.doc, Y.encodeStateVector(room.doc)) }));
    await again.until('ack');
    expect(again.closed).toBe(false);
    const stored = new Y.Doc();
    for (const update of (await store.load(roomId)).updates) Y.applyUpdate(stored, update);
    expect(contentsOf(stored)).toEqual(['while the database is paused']);
  });

  it('drain() resolves once everything applied, during flights too, is stored', async () => {
    const { room, queue, stored } = await open();
    const writer = new MemoryPeer(ana);
    room.join(writer);
    const client = writerReplica(ana.id);
    for (let i = 0; i < 5; i++) {
      room.receive(writer, encodeFrame({ type: 'update', update: client.write(`message ${i}`) }));
      queue.flush();
    }
    await queue.drain();
    expect(queue.busy).toBe(false);
    expect(room.uncommitted).toBe(false);
    expect(contentsOf(await stored())).toEqual(['message 0', 'message 1', 'message 2', 'message 3', 'message 4']);
  });
});
