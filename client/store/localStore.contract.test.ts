import { Dexie } from 'dexie';
import { IDBKeyRange, indexedDB } from 'fake-indexeddb';
import * as Y from 'yjs';
import { describe, expect, it } from 'vitest';
import { DexieLocalStore } from './DexieLocalStore.ts';
import type { LocalStore } from './LocalStore.ts';
import { MemoryLocalStore } from './MemoryLocalStore.ts';
import { mergeRoomUpdates } from './mergeRoomUpdates.ts';
import { uuidv4, uuidv7 } from '../../shared/ids.ts';
import type { MessageView } from '../../shared/roomDoc/messageView.ts';
import { createMessage } from '../../shared/roomDoc/messageOps.ts';
import { listMessages, messageCount } from '../../shared/roomDoc/queries.ts';
import { freshDbName } from '../../test/support/clientHarness.ts';

/*
 * One contract, two implementations (automerge-repo's storage-adapter-tests pattern): everything
 * the SDK relies on from a LocalStore, run against Dexie on fake-indexeddb and against memory.
 */

interface Subject {
  readonly name: string;
  open(): Promise<{ store: LocalStore; reopen: () => Promise<LocalStore> }>;
}

const subjects: Subject[] = [
  {
    name: 'DexieLocalStore (fake-indexeddb)',
    async open() {
      const name = freshDbName('contract');
      const open = () => DexieLocalStore.open({ name, indexedDB, IDBKeyRange });
      return { store: await open(), reopen: open };
    },
  },
  {
    name: 'MemoryLocalStore',
    async open() {
      const store = new MemoryLocalStore();
      return { store, reopen: async () => store.reopen() };
    },
  },
];

const actor = { userId: uuidv4(), role: 'member' as const };

/** A room's updates, one per message, as a client would log them. */
function messageUpdates(count: number, doc = new Y.Doc()): Uint8Array[] {
  const updates: Uint8Array[] = [];
  const onUpdate = (u: Uint8Array): void => void updates.push(u);
  doc.on('update', onUpdate);
  for (let i = 0; i < count; i++) {
    const r = createMessage(doc, actor, { content: `message ${i}` });
    if (!r.ok) throw new Error(r.message);
  }
  doc.off('update', onUpdate);
  return updates;
}

function docFrom(parts: readonly Uint8Array[]): Y.Doc {
  const doc = new Y.Doc();
  for (const p of parts) Y.applyUpdate(doc, p);
  return doc;
}

const logParts = (log: { snapshot: Uint8Array | null; updates: ReadonlyArray<{ update: Uint8Array }> }): Uint8Array[] => [
  ...(log.snapshot ? [log.snapshot] : []),
  ...log.updates.map((u) => u.update),
];

describe.each(subjects)('LocalStore contract: $name', (subject) => {
  it('appends in order, per room, with increasing seqs, and keeps them across a reopen', async () => {
    const { store, reopen } = await subject.open();
    const [a, b] = [uuidv4(), uuidv4()];
    const ua = messageUpdates(3);
    const s1 = await store.appendUpdates(a, ua.slice(0, 2));
    const s2 = await store.appendUpdates(b, messageUpdates(1));
    const s3 = await store.appendUpdates(a, ua.slice(2));
    expect(s1).toBeLessThan(s2);
    expect(s2).toBeLessThan(s3);
    await store.close();
    const again = await reopen();
    const log = await again.loadRoom(a);
    expect(log.snapshot).toBeNull();
    expect(log.updates.map((u) => u.update)).toEqual(ua);
    expect(log.updates.map((u) => u.seq)).toEqual([...log.updates.map((u) => u.seq)].sort((x, y) => x - y));
    expect((await again.loadRoom(b)).updates).toHaveLength(1);
    expect(await again.logStats(a)).toEqual({ entries: 3, bytes: ua.reduce((s, u) => s + u.byteLength, 0) });
    await again.close();
  });

  it('compacts into a snapshot that holds everything, and loadRoomSince hands readers what they missed', async () => {
    const { store } = await subject.open();
    const room = uuidv4();
    const doc = new Y.Doc();
    const first = messageUpdates(20, doc);
    const seq = await store.appendUpdates(room, first);
    const midSeq = seq - 10;
    const result = await store.compactRoom(room, mergeRoomUpdates);
    expect(result).toMatchObject({ throughSeq: seq, merged: 20 });
    const later = messageUpdates(2, doc);
    const lastSeq = await store.appendUpdates(room, later);
    const log = await store.loadRoom(room);
    expect(log.snapshotSeq).toBe(seq);
    expect(log.updates.map((u) => u.update)).toEqual(later);
    expect(messageCount(docFrom(logParts(log)))).toBe(22);
    // A reader that stopped mid-way through the compacted range needs the snapshot.
    const behind = await store.loadRoomSince(room, midSeq);
    expect(behind.snapshot).not.toBeNull();
    expect(messageCount(docFrom(logParts(behind)))).toBe(22);
    // A reader past the snapshot gets only newer entries.
    const ahead = await store.loadRoomSince(room, seq);
    expect(ahead.snapshot).toBeNull();
    expect(ahead.updates.map((u) => u.seq)).toEqual([lastSeq - 1, lastSeq]);
    expect(await store.loadRoomSince(room, lastSeq)).toMatchObject({ snapshot: null, updates: [] });
    expect(await store.compactRoom(uuidv4(), mergeRoomUpdates)).toBeNull();
    await store.close();
  });

  it('keeps entries appended while a compaction runs, and two racing compactions lose nothing', async () => {
    const { store } = await subject.open();
    const room = uuidv4();
    const doc = new Y.Doc();
    await store.appendUpdates(room, messageUpdates(50, doc));
    const racing = messageUpdates(10, doc);
    const compactions = [store.compactRoom(room, mergeRoomUpdates), store.compactRoom(room, mergeRoomUpdates)];
    const appends = racing.map((u) => store.appendUpdates(room, [u]));
    const results = await Promise.all(compactions);
    await Promise.all(appends);
    expect(results.filter((r) => r !== null).length).toBeGreaterThanOrEqual(1);
    const restored = docFrom(logParts(await store.loadRoom(room)));
    expect(messageCount(restored)).toBe(60);
    expect(listMessages(restored, { limit: 60 }).messages.map((m) => m.content)).toEqual(
      listMessages(doc, { limit: 60 }).messages.map((m) => m.content),
    );
    await store.close();
  });

  it('waits for a merge that answers later (a worker): entries appended meanwhile stay, a second compaction waiting on it loses nothing', async () => {
    const { store } = await subject.open();
    const room = uuidv4();
    const doc = new Y.Doc();
    await store.appendUpdates(room, messageUpdates(30, doc));
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let merging: () => void = () => undefined;
    const started = new Promise<void>((resolve) => (merging = resolve));
    const slowMerge = async (updates: readonly Uint8Array[]): Promise<Uint8Array> => {
      merging();
      await gate;
      return mergeRoomUpdates(updates);
    };
    const slow = store.compactRoom(room, slowMerge);
    await started;
    // The log is not locked while the merge runs: appends and a quicker compaction go ahead.
    await store.appendUpdates(room, messageUpdates(5, doc));
    const quick = await store.compactRoom(room, mergeRoomUpdates);
    expect(quick).not.toBeNull();
    release();
    // The slow one read the log before the quick one swapped it: it must find that out and give up.
    expect(await slow).toBeNull();
    await store.appendUpdates(room, messageUpdates(2, doc));
    expect(messageCount(docFrom(logParts(await store.loadRoom(room))))).toBe(37);
    await store.close();
  });

  it('round-trips sync state, room list, members, recent pages, presence, client ids, identity and the feed cursor; deleteRoom drops one room only', async () => {
    const { store, reopen } = await subject.open();
    const [a, b] = [uuidv4(), uuidv4()];
    const now = new Date().toISOString();
    const room = (id: string) => ({
      id,
      name: 'r',
      type: 'group' as const,
      company_id: null,
      is_active: true,
      extra_metadata: {},
      created_at: now,
      updated_at: now,
      member_count: 1,
      last_message: null,
      company: null,
    });
    await store.putRoomSync({ roomId: a, durable: Y.encodeStateVector(new Map([[7, 3]])), rejected: {}, refusal: null });
    await store.replaceRooms([{ id: a, room: room(a), unreadCount: 2, mentionCount: 1, lastMessage: null, order: 0 }, { id: b, room: room(b), unreadCount: 0, mentionCount: 0, lastMessage: null, order: 1 }]);
    await store.putMembers({ roomId: a, members: [] });
    const userId = uuidv4();
    const recent = { roomId: a, messages: [recentMessage(userId)] };
    await store.putRecentPage(recent);
    await store.putPresence([{ user_id: userId, is_online: true, last_seen_at: null, status: 'here' }]);
    await store.putClientId({ clientId: 42, createdAt: 1, retiredAt: null });
    await store.putIdentity({ key: 'identity', user: { id: userId, name: 'Ana' }, serverUrl: 'http://x' });
    expect(await store.getFeedCursor()).toBeNull();
    await store.putFeedCursor('41.1700000000000');
    await store.appendUpdates(a, messageUpdates(1));
    await store.appendUpdates(b, messageUpdates(1));
    await store.close();
    const s = await reopen();
    expect(Y.decodeStateVector((await s.getRoomSync(a))!.durable)).toEqual(new Map([[7, 3]]));
    expect((await s.getRooms()).map((r) => r.id).sort()).toEqual([a, b].sort());
    expect(await s.getMembers(a)).toEqual({ roomId: a, members: [] });
    expect(await s.getRecentPage(a)).toEqual(recent);
    expect(await s.getRecentPage(b)).toBeNull();
    expect(await s.getPresence([userId, uuidv4()])).toEqual([{ user_id: userId, is_online: true, last_seen_at: null, status: 'here' }]);
    expect(await s.getClientIds()).toEqual([{ clientId: 42, createdAt: 1, retiredAt: null }]);
    expect((await s.getIdentity())?.user.name).toBe('Ana');
    expect(await s.getFeedCursor()).toBe('41.1700000000000');
    await s.replaceRooms([{ id: b, room: room(b), unreadCount: 0, mentionCount: 0, lastMessage: null, order: 0 }]);
    expect((await s.getRooms()).map((r) => r.id)).toEqual([b]);
    await s.deleteRoom(a);
    expect(await s.loadRoom(a)).toMatchObject({ snapshot: null, updates: [] });
    expect(await s.getRoomSync(a)).toBeNull();
    expect(await s.getRecentPage(a)).toBeNull();
    expect((await s.loadRoom(b)).updates).toHaveLength(1);
    await s.close();
  });

  it('keeps uploads with their bytes apart, oldest first; updating a row keeps the bytes; deleteUpload and deleteRoom drop both', async () => {
    const { store, reopen } = await subject.open();
    const [roomA, roomB] = [uuidv4(), uuidv4()];
    const file = { name: 'cat.png', declaredType: 'image/png', size: 3, uploaded: null };
    const row = (roomId: string, createdAt: number) => ({ messageId: uuidv7(createdAt), roomId, type: 'image' as const, content: '', files: [file, { ...file, name: 'b.txt' }], failure: null, written: null, createdAt });
    const [later, earlier, other] = [row(roomA, 2_000), row(roomA, 1_000), row(roomB, 3_000)];
    await store.putUpload(later, [new Uint8Array([1, 2, 3]), new Uint8Array([4])]);
    await store.putUpload(earlier, [new Uint8Array([5]), new Uint8Array([6])]);
    await store.putUpload(other, [new Uint8Array([7]), new Uint8Array([8])]);
    await store.close();
    const s = await reopen();
    expect((await s.getUploads()).map((u) => u.messageId)).toEqual([earlier.messageId, later.messageId, other.messageId]);
    const uploaded = { id: uuidv7(), url: '/x', thumbnail_url: null, name: 'cat.png', mime_type: 'image/png', size: 3, width: 1, height: 1 };
    await s.putUpload({ ...later, files: [{ ...file, uploaded }, later.files[1]!], failure: { code: 'payload_too_large', reason: 'too big' } });
    expect((await s.getUploads()).find((u) => u.messageId === later.messageId)).toMatchObject({ files: [{ uploaded }, { uploaded: null }], failure: { code: 'payload_too_large' } });
    expect(await s.getUploadBytes(later.messageId, 0)).toEqual(new Uint8Array([1, 2, 3]));
    expect(await s.getUploadBytes(later.messageId, 1)).toEqual(new Uint8Array([4]));
    await s.deleteUpload(later.messageId);
    expect(await s.getUploadBytes(later.messageId, 0)).toBeNull();
    await s.deleteRoom(roomA);
    expect((await s.getUploads()).map((u) => u.messageId)).toEqual([other.messageId]);
    expect(await s.getUploadBytes(earlier.messageId, 0)).toBeNull();
    expect(await s.getUploadBytes(other.messageId, 1)).toEqual(new Uint8Array([8]));
    await s.close();
  });
});

/** A message as a recent page holds it. */
function recentMessage(senderId: string): MessageView {
  const createdAt = Date.now();
  return { id: uuidv7(createdAt), senderId, type: 'text', content: 'hi', meta: {}, createdAt, editedAt: null, deletedAt: null, deletedBy: null, reactions: { '👍': [senderId] } };
}

describe('DexieLocalStore only', () => {
  it('upgrades a database of version 1 in place, keeping its rooms', async () => {
    const name = freshDbName('v1');
    const room = uuidv4();
    const v1 = new Dexie(name, { indexedDB, IDBKeyRange });
    v1.version(1).stores({ updates: '++seq, [roomId+seq]', snapshots: 'roomId', roomSync: 'roomId', rooms: 'id', members: 'roomId', presence: 'user_id', clientIds: 'clientId', meta: 'key' });
    await v1.open();
    await v1.table('updates').add({ roomId: room, update: messageUpdates(1)[0] });
    v1.close();
    const store = await DexieLocalStore.open({ name, indexedDB, IDBKeyRange });
    expect((await store.loadRoom(room)).updates).toHaveLength(1);
    const recent = { roomId: room, messages: [recentMessage(uuidv4())] };
    await store.putRecentPage(recent);
    expect(await store.getRecentPage(room)).toEqual(recent);
    await store.close();
  });

  it('skips rows that do not parse instead of trusting them', async () => {
    const name = freshDbName('corrupt');
    const store = await DexieLocalStore.open({ name, indexedDB, IDBKeyRange });
    const room = uuidv4();
    await store.appendUpdates(room, messageUpdates(2));
    // Another writer (an old app version, an extension) puts garbage into the same database.
    const raw = new Dexie(name, { indexedDB, IDBKeyRange });
    await raw.open();
    await raw.table('updates').add({ roomId: room, update: 'not bytes' });
    await raw.table('roomSync').put({ roomId: room, durable: [1, 2, 3], rejected: {}, refusal: null });
    raw.close();
    const log = await store.loadRoom(room);
    expect(log.updates).toHaveLength(2);
    expect(await store.getRoomSync(room)).toBeNull();
    expect(store.skippedRows).toBe(2);
    await store.close();
  });
});
