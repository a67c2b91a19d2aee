import type pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import * as Y from 'yjs';
import { createLogger } from '../log.ts';
import { InlineCompactor } from '../storage/InlineCompactor.ts';
import { MemoryUpdateStore } from '../storage/MemoryUpdateStore.ts';
import { openPostgres } from '../storage/pg/openPostgres.ts';
import { PgUpdateStore } from '../storage/pg/PgUpdateStore.ts';
import { CommitQueue } from '../sync/CommitQueue.ts';
import { RoomNotLoadedError, RoomRegistry } from '../sync/RoomRegistry.ts';
import type { Room, UpdateGate } from '../sync/Room.ts';
import { relayUpdates } from '../sync/commit/relayUpdates.ts';
import { acknowledgeWriters } from '../sync/commit/acknowledgeWriters.ts';
import { notifyCommitListeners } from '../sync/commit/notifyCommitListeners.ts';
import { resumeWaiting } from '../sync/commit/resumeWaiting.ts';
import { ThreadSummaries } from '../threads/ThreadSummaries.ts';
import { Segmenter } from './Segmenter.ts';
import { historyPage } from './roomHistory.ts';
import { withLoaded } from './loadedDocs.ts';
import { encodeFrame } from '../../shared/protocol/frames.ts';
import { uuidv4, uuidv7 } from '../../shared/ids.ts';
import { type MessageValue, roomMaps } from '../../shared/roomDoc/layout.ts';
import { getMessage } from '../../shared/roomDoc/queries.ts';
import { SEGMENT_MAX_MESSAGES, SegmentIndex, segmentDocName, segmentsMap } from '../../shared/roomDoc/segments.ts';
import { MemoryPeer } from '../../test/support/memoryPeer.ts';
import { postgresSuiteName, postgresTestsRun, startPostgres, type ThrowawayPostgres } from '../../test/support/postgres.ts';

/*
 * The segment machinery over an asynchronous store (a real PostgreSQL, docs/scale-out.md): every
 * document the registry loads is a round trip, so a segment loads after its head, and a late
 * write whose home is not loaded moves once the home has loaded. Peers in memory.
 */

const it = postgresTestsRun() ? test : test.skip;
const ana = { id: uuidv4(), name: 'Ana' };
const logger = createLogger(process.env.DEBUG_SEG ? 'debug' : 'silent');
const gate: UpdateGate = (room, _peer, update) => {
  const clients = new Set([...Y.decodeUpdate(update).structs].map((s) => s.id.client));
  return { ok: true, newClients: [...clients].filter((c) => room.clientOwners.ownerOf(c) === undefined) };
};

function messageValue(id: string, content: string, extra: Partial<MessageValue> = {}): MessageValue {
  return { id, senderId: ana.id, type: 'text', content, meta: {}, createdAt: Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16), ...extra };
}

/** The registry, commit queue, Segmenter and thread summaries wired as the server wires them, over `store`. */
function server(store: PgUpdateStore) {
  const queue = new CommitQueue(store);
  const memory = new MemoryUpdateStore();
  const segmenter = (): Segmenter => parts.segmenter;
  const threads = (): ThreadSummaries => parts.threads;
  const registry = new RoomRegistry({
    store,
    asyncStore: true,
    compactor: new InlineCompactor(memory, logger),
    queue,
    logger,
    gate,
    idleMs: 60_000,
    compactUpdates: 1_000_000,
    compactBytes: 1 << 30,
    stages: [relayUpdates, acknowledgeWriters, notifyCommitListeners, resumeWaiting, (batch) => segmenter().stage(batch)],
    beforeCommit: (room) => threads().beforeCommit(room),
    onLoaded: (room) => {
      threads().roomLoaded(room);
      segmenter().roomLoaded(room);
    },
    onUnloaded: (docName) => {
      segmenter().roomUnloaded(docName);
      threads().roomUnloaded(docName);
    },
  });
  const parts = { segmenter: new Segmenter({ registry, logger }), threads: new ThreadSummaries({ registry, logger }) };
  return { registry, queue, segmenter: parts.segmenter };
}

/** Resolves at the next commit of `room` that stores updates. */
function nextCommit(room: Room): Promise<void> {
  return new Promise((resolve) => {
    const off = room.onCommit((updates) => {
      if (updates.length === 0) return;
      off();
      resolve();
    });
  });
}

/** Resolves when `registry` registers `docName`. */
function loadOf(registry: RoomRegistry, docName: string): Promise<Room> {
  return new Promise((resolve) => {
    const off = registry.onLoadedDoc((room) => {
      if (room.roomId !== docName) return;
      off();
      resolve(room);
    });
  });
}

/** Sends what `write` adds to a replica of `room` as `peer`'s update, and waits for its acknowledgement. */
async function send(room: Room, peer: MemoryPeer, write: (doc: Y.Doc) => void): Promise<void> {
  const replica = new Y.Doc();
  Y.applyUpdate(replica, Y.encodeStateAsUpdate(room.doc));
  const before = Y.encodeStateVector(replica);
  write(replica);
  const acks = peer.framesOf('ack').length;
  room.receive(peer, encodeFrame({ type: 'update', update: Y.encodeStateAsUpdate(replica, before) }));
  await peer.until('ack', acks + 1);
  expect(peer.closedWith).toBeNull();
}

describe(postgresSuiteName('segments over an asynchronous store (a real PostgreSQL)'), () => {
  let postgres: ThrowawayPostgres | undefined;
  const pools: pg.Pool[] = [];
  const registries: RoomRegistry[] = [];
  beforeAll(async () => {
    if (postgresTestsRun()) postgres = await startPostgres();
  }, 60_000);
  afterEach(async () => {
    for (const registry of registries.splice(0)) await registry.unloadAll();
    for (const pool of pools.splice(0)) await pool.end().catch(() => {});
  });
  afterAll(() => postgres?.stop());

  it('seals a full segment, moves a late edit into the sealed segment loaded for it, and keeps every message once', async () => {
    if (!postgres) throw new Error('PostgreSQL did not start');
    const pool = await openPostgres(await postgres.createDatabase());
    pools.push(pool);
    const store = new PgUpdateStore(pool);
    const roomId = uuidv4();
    const seg0 = segmentDocName(roomId, 0);
    const seg1 = segmentDocName(roomId, 1);

    // A segmented room one message short of a full open segment 0.
    const ids = Array.from({ length: SEGMENT_MAX_MESSAGES - 1 }, () => uuidv7());
    const head = new Y.Doc();
    segmentsMap(head).set('0', { sealed: false, first: null, last: null, count: 0 });
    const segment = new Y.Doc();
    const { messages } = roomMaps(segment);
    segment.transact(() => ids.forEach((id, i) => messages.set(id, messageValue(id, `history ${i}`))));
    await store.append(
      [{ roomId, update: Y.encodeStateAsUpdate(head) }, { roomId: seg0, update: Y.encodeStateAsUpdate(segment) }],
      [{ roomId: seg0, clientId: segment.clientID, userId: ana.id }],
    );

    const { registry, queue } = server(store);
    registries.push(registry);
    expect(() => registry.open(seg0)).toThrow(RoomNotLoadedError);
    // A segment loads after its head: the Segmenter holds the head from the segment's load on.
    const open0 = await registry.openReady(seg0);
    const loadedHead = registry.get(roomId);
    if (!loadedHead) throw new Error('the head was not loaded with its segment');
    expect(loadedHead.inUse).toBe(true);

    // The 5,000th message: its commit seals segment 0 and opens 1.
    const writer = new MemoryPeer(ana);
    open0.join(writer);
    const last = uuidv7();
    const sealing = nextCommit(loadedHead);
    await send(open0, writer, (doc) => roomMaps(doc).messages.set(last, messageValue(last, 'the last of segment 0')));
    await sealing;
    const index = SegmentIndex.of(loadedHead.doc);
    expect(index.sealedAt(0)).toMatchObject({ first: ids[0], last, count: SEGMENT_MAX_MESSAGES });
    expect(index.open?.n).toBe(1);

    // Segment 0 unloads; a stock client that knows one document per room edits an old message in the head.
    open0.leave(writer);
    registry.unload(seg0);
    expect(registry.get(seg0)).toBeUndefined();
    const stock = new MemoryPeer(ana);
    loadedHead.join(stock);
    const edited = ids[10] ?? '';
    const homeLoaded = loadOf(registry, seg0);
    await send(loadedHead, stock, (doc) => roomMaps(doc).messages.set(edited, messageValue(edited, 'edited late', { editedAt: Date.now() })));
    // Acknowledged in the head; then segment 0 is loaded from PostgreSQL and the edit moves into it.
    const home = await homeLoaded;
    await nextCommit(home);
    expect(getMessage(home.doc, edited)?.content).toBe('edited late');
    expect(roomMaps(loadedHead.doc).messages.size).toBe(0);

    // A new message goes to the open segment, loaded on demand.
    const open1 = await registry.openReady(seg1);
    const newest = uuidv7();
    const writer1 = new MemoryPeer(ana);
    open1.join(writer1);
    await send(open1, writer1, (doc) => roomMaps(doc).messages.set(newest, messageValue(newest, 'the first of segment 1')));
    // History across segments, read through the asynchronous store: segment 0 is loaded for it.
    registry.unload(seg0);
    const page = await withLoaded(registry, (docs) => historyPage(docs, loadedHead, roomId, undefined, 3));
    expect(page.messages.map((m) => m.id)).toEqual([ids.at(-1), last, newest]);
    expect(registry.get(seg0)).toBeDefined();
    await queue.drain();

    // Everything again from PostgreSQL, through another registry: every message once, the edit in segment 0.
    const reloadedPool = await openPostgres(pool.options.connectionString ?? '');
    pools.push(reloadedPool);
    const again = server(new PgUpdateStore(reloadedPool));
    registries.push(again.registry);
    const holder = {};
    const docs = await Promise.all([roomId, seg0, seg1].map(async (name) => (await again.registry.acquireReady(name, holder)).room));
    const [reHead, re0, re1] = docs;
    if (!reHead || !re0 || !re1) throw new Error('a document did not load');
    expect(SegmentIndex.of(reHead.doc).sealedAt(0)).toMatchObject({ last, count: SEGMENT_MAX_MESSAGES });
    expect(roomMaps(reHead.doc).messages.size).toBe(0);
    const seen = new Map<string, number>();
    for (const doc of [re0, re1]) for (const id of roomMaps(doc.doc).messages.keys()) seen.set(id, (seen.get(id) ?? 0) + 1);
    expect(seen.size).toBe(SEGMENT_MAX_MESSAGES + 1);
    expect([...seen.values()].every((count) => count === 1)).toBe(true);
    expect([...roomMaps(re1.doc).messages.keys()]).toEqual([newest]);
    expect(getMessage(re0.doc, edited)?.content).toBe('edited late');
    expect(getMessage(re0.doc, last)?.content).toBe('the last of segment 0');
  }, 60_000);
});
