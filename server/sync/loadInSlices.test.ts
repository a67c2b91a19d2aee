import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import type { WebsocketProvider } from 'y-websocket';
import { createLogger } from '../log.ts';
import { openDatabase, type Db } from '../storage/openDatabase.ts';
import { SqliteUpdateStore } from '../storage/SqliteUpdateStore.ts';
import { StorageWorker } from '../storage/StorageWorker.ts';
import { InlineCompactor } from '../storage/InlineCompactor.ts';
import { CommitQueue } from './CommitQueue.ts';
import { Room, type RoomOptions } from './Room.ts';
import { CORE_COMMIT_STAGES } from './commit/commitStages.ts';
import { workerRoomLoader } from './workerRoomLoader.ts';
import { createMessage, deleteMessage, editMessage } from '../../shared/roomDoc/messageOps.ts';
import { addReaction } from '../../shared/roomDoc/reactionOps.ts';
import { lastMessage, listMessages, messageCount } from '../../shared/roomDoc/queries.ts';
import { decodeServerFrame } from '../../shared/protocol/frames.ts';
import { CommandClient } from '../../test/support/commandClient.ts';
import { roomMaps } from '../../shared/roomDoc/layout.ts';
import { makeTempDir } from '../../test/support/tempDir.ts';
import { acknowledged, connectProvider, startWithRoom, synced, untilDoc, type TwoMemberRoom } from '../../test/support/serverHarness.ts';

/*
 * A big room is loaded off the event loop: the storage worker reads and cuts its state, the main
 * thread applies the pieces one per turn. The room must come out exactly as a load at once.
 */

const ana = { userId: '11111111-1111-4111-8111-111111111111', role: 'member' as const };
const contents = (doc: Y.Doc): string[] => listMessages(doc, { limit: 100_000 }).messages.map((m) => `${m.content}|${m.deletedAt}|${JSON.stringify(m.reactions)}`);

describe('Room.loadInSlices', () => {
  let db: Db;
  let worker: StorageWorker;
  let remove: () => void;
  afterEach(async () => {
    await worker.close();
    db.close();
    remove();
  });

  it('gives the same room as loading it at once, from a snapshot plus a log, in several pieces', async () => {
    const tmp = makeTempDir();
    remove = tmp.remove;
    const file = path.join(tmp.dir, 'p.db');
    db = openDatabase(file);
    const store = new SqliteUpdateStore(db);
    const doc = new Y.Doc();
    roomMaps(doc);
    doc.on('update', (update: Uint8Array) => store.append([{ roomId: 'r', update }]));
    const ids: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const created = createMessage(doc, ana, { content: `message ${i} `.padEnd(200, 'x') });
      if (created.ok) ids.push(created.id);
    }
    // A snapshot for most of it, then edits, deletions and reactions in the log after it.
    store.compact('r', Y.encodeStateAsUpdate(doc), store.load('r').lastSeq);
    for (let i = 0; i < 300; i += 3) {
      editMessage(doc, ana, { id: ids[i]!, content: `edited ${i}` });
      deleteMessage(doc, ana, { id: ids[i + 1]! });
      addReaction(doc, ana, { messageId: ids[i + 2]!, reaction: '👍' });
    }

    const logger = createLogger('silent');
    const queue = new CommitQueue(store);
    const opts: RoomOptions = { compactor: new InlineCompactor(store, logger), queue, logger, gate: () => ({ ok: true, newClients: [] }), stages: CORE_COMMIT_STAGES, compactUpdates: 1000, compactBytes: 1 << 30, maxDocBytes: 1 << 30 };
    worker = new StorageWorker({ backend: 'sqlite', dbFile: file, synchronous: 'NORMAL' }, logger);
    const slices = await workerRoomLoader(worker)('r');
    expect(slices.frames.length).toBeGreaterThan(2);
    expect(slices.logUpdates).toBe(300);
    const sliced = await Room.loadInSlices('r', slices, { ...opts, wholeRoomFromStorage: { loader: workerRoomLoader(worker), aboveBytes: 0 } });
    const atOnce = Room.load('r', store, opts);
    expect(sliced.doc.store.pendingStructs).toBeNull();
    expect(Y.encodeStateVector(sliced.doc)).toEqual(Y.encodeStateVector(atOnce.doc));
    expect(contents(sliced.doc)).toEqual(contents(atOnce.doc));
    expect(contents(sliced.doc)).toEqual(contents(doc));
    expect(sliced.admit('u', 0) === null && sliced.maxDocBytes).toBe(1 << 30);
    // The message index followed the slices as they landed.
    expect(messageCount(sliced.doc)).toBe(messageCount(atOnce.doc));
    expect(lastMessage(sliced.doc)).toEqual(lastMessage(atOnce.doc));

    // The first joiner with nothing gets the slices themselves, at once, and they make the whole room.
    const reply = sliced.syncStep2For(Y.encodeStateVector(new Y.Doc()));
    if (reply instanceof Promise) throw new Error('the whole-room reply should be the slices as loaded');
    expect(reply.length).toBe(slices.frames.length);
    const joiner = new Y.Doc();
    for (const [i, frame] of reply.entries()) {
      const decoded = decodeServerFrame(frame);
      if (!decoded.ok || !decoded.frame) throw new Error('undecodable frame');
      expect(decoded.frame.type).toBe(i === 0 ? 'syncStep2' : 'update');
      if (decoded.frame.type === 'syncStep2' || decoded.frame.type === 'update') Y.applyUpdate(joiner, decoded.frame.update);
    }
    expect(joiner.store.pendingStructs).toBeNull();
    expect(contents(joiner)).toEqual(contents(doc));

    // Any change drops that reply: the next joiner's comes from the storage worker again.
    createMessage(sliced.doc, ana, { content: 'after the load' });
    const next = sliced.syncStep2For(Y.encodeStateVector(new Y.Doc()));
    expect(next).toBeInstanceOf(Promise);
    await next;
    sliced.destroy();
    atOnce.destroy();
  });
});

describe('a sync connection to a room loaded in slices', () => {
  let s: TwoMemberRoom;
  const providers: WebsocketProvider[] = [];
  afterEach(async () => {
    for (const p of providers.splice(0)) p.destroy();
    await s.t.dispose();
  });

  it('has its frames wait until the room is ready, and every client racing the load gets everything', async () => {
    // Every room loads in slices here; after a restart the room is loaded on first connect.
    s = await startWithRoom({ PARLEY_SLICED_LOAD_BYTES: '0' });
    const first = connectProvider(s.t, s.roomId, s.ana, new Y.Doc(), { parley: true });
    providers.push(first);
    await synced(first);
    const anaActor = { userId: s.ana.id, role: 'owner' as const };
    for (let i = 0; i < 200; i++) createMessage(first.doc, anaActor, { content: `before ${i}` });
    await acknowledged(first);
    first.destroy();
    await s.t.restart();
    expect(s.t.server.registry.get(s.roomId)).toBeUndefined();

    // Three clients at once: one writes as soon as it has synced (its frames may reach the server mid-load).
    const writer = connectProvider(s.t, s.roomId, s.ana);
    const readers = [connectProvider(s.t, s.roomId, s.ben), connectProvider(s.t, s.roomId, s.ben)];
    providers.push(writer, ...readers);
    await synced(writer);
    createMessage(writer.doc, anaActor, { content: 'after the load' });
    for (const reader of readers) {
      await untilDoc(reader.doc, (doc) => listMessages(doc, { limit: 1000 }).messages.length === 201);
      expect(listMessages(reader.doc, { limit: 1000 }).messages.at(-1)?.content).toBe('after the load');
    }
  });

  it('answers a JSON command client only once the room is loaded, with everything in it', async () => {
    s = await startWithRoom({ PARLEY_SLICED_LOAD_BYTES: '0' });
    const first = connectProvider(s.t, s.roomId, s.ana, new Y.Doc(), { parley: true });
    providers.push(first);
    await synced(first);
    for (let i = 0; i < 200; i++) createMessage(first.doc, { userId: s.ana.id, role: 'owner' }, { content: `before ${i}` });
    await acknowledged(first);
    first.destroy();
    await s.t.restart();
    expect(s.t.server.registry.get(s.roomId)).toBeUndefined();

    const json = await CommandClient.connect(s.t, s.ben);
    try {
      const [history, sent] = await Promise.all([
        json.request('fetch_history', { room_id: s.roomId, limit: 5 }),
        json.request('send_message', { room_id: s.roomId, content: 'while it loads' }),
      ]);
      expect(history.success).toBe(true);
      expect(sent.success).toBe(true);
      const room = s.t.server.registry.get(s.roomId);
      expect(room && messageCount(room.doc)).toBe(201);
      expect(room && lastMessage(room.doc)?.content).toBe('while it loads');
    } finally {
      await json.close();
    }
  });
});
