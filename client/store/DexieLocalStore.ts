import { Dexie, type Table } from 'dexie';
import type { z } from 'zod';
import type { CompactionResult, LocalStore, LogStats, MergeUpdates, StoredRoomLog } from './LocalStore.ts';
import {
  ClientIdRowSchema,
  IdentityRowSchema,
  FeedCursorRowSchema,
  type FeedCursorRow,
  MembersRowSchema,
  PresenceRowSchema,
  RecentPageRowSchema,
  RoomRowSchema,
  RoomSyncRowSchema,
  SnapshotRowSchema,
  UpdateRowSchema,
  type ClientIdRow,
  type IdentityRow,
  type MembersRow,
  type PresenceRow,
  type RecentPageRow,
  type RoomRow,
  type RoomSyncRow,
  type SnapshotRow,
  UploadBytesRowSchema,
  UploadRowSchema,
  type UploadRow,
  uploadBytesKey,
} from './storedRecords.ts';
import { storageError } from '../errors/ClientError.ts';

export interface DexieLocalStoreOptions {
  /** The IndexedDB database name; one per user (see ChatClient's `dbName`). */
  readonly name: string;
  /** An IndexedDB implementation (`fake-indexeddb` in Node); the global one by default. */
  readonly indexedDB?: IDBFactory;
  readonly IDBKeyRange?: typeof IDBKeyRange;
  /** Called with each row that fails to parse (it is skipped). */
  readonly onInvalidRow?: (table: string, issue: string) => void;
}

/**
 * The schema. `updates` is the append-only log of every room, keyed by one auto-increment `seq`
 * so that the order of appends is the order of the log, indexed by [roomId+seq] for per-room
 * ranges. Everything else is keyed by what it describes.
 */
const SCHEMA_V1 = {
  updates: '++seq, [roomId+seq]',
  snapshots: 'roomId',
  roomSync: 'roomId',
  rooms: 'id',
  members: 'roomId',
  presence: 'user_id',
  clientIds: 'clientId',
  meta: 'key',
} as const;

/** Version 2 adds each segmented room's recent page (a database of version 1 upgrades in place). */
const SCHEMA_V2 = { ...SCHEMA_V1, recentPages: 'roomId' } as const;

/** Version 3 adds messages waiting for their attachments' upload, and those files' bytes. */
const SCHEMA_V3 = { ...SCHEMA_V2, uploads: 'messageId, roomId', uploadBytes: 'key' } as const;

type Tables = { readonly [K in keyof typeof SCHEMA_V3]: Table<unknown, unknown> };

/**
 * LocalStore on IndexedDB through Dexie. Every write is one awaited Dexie transaction, so a
 * resolved write is on disk (as far as the browser's IndexedDB durability goes) and a failed one
 * rejects with a ClientError (`storage_full` for QuotaExceededError) instead of vanishing.
 */
export class DexieLocalStore implements LocalStore {
  readonly name: string;
  readonly #db: Dexie;
  readonly #t: Tables;
  readonly #onInvalidRow: ((table: string, issue: string) => void) | undefined;
  #skipped = 0;

  private constructor(db: Dexie, opts: DexieLocalStoreOptions) {
    this.name = opts.name;
    this.#db = db;
    this.#onInvalidRow = opts.onInvalidRow;
    const table = (name: keyof typeof SCHEMA_V3): Table<unknown, unknown> => db.table(name);
    this.#t = {
      updates: table('updates'),
      snapshots: table('snapshots'),
      roomSync: table('roomSync'),
      rooms: table('rooms'),
      members: table('members'),
      presence: table('presence'),
      clientIds: table('clientIds'),
      meta: table('meta'),
      recentPages: table('recentPages'),
      uploads: table('uploads'),
      uploadBytes: table('uploadBytes'),
    };
  }

  static async open(opts: DexieLocalStoreOptions): Promise<DexieLocalStore> {
    const db = new Dexie(opts.name, {
      ...(opts.indexedDB ? { indexedDB: opts.indexedDB } : {}),
      ...(opts.IDBKeyRange ? { IDBKeyRange: opts.IDBKeyRange } : {}),
    });
    db.version(1).stores(SCHEMA_V1);
    db.version(2).stores(SCHEMA_V2);
    db.version(3).stores(SCHEMA_V3);
    try {
      await db.open();
    } catch (error) {
      throw storageError(error, `opening IndexedDB database ${opts.name}`);
    }
    return new DexieLocalStore(db, opts);
  }

  get skippedRows(): number {
    return this.#skipped;
  }

  async appendUpdates(roomId: string, updates: readonly Uint8Array[]): Promise<number> {
    if (updates.length === 0) return 0;
    const rows = updates.map((update) => ({ roomId, update }));
    return this.#run('appending to the room log', () =>
      this.#db.transaction('rw', this.#t.updates, async () => {
        const keys = await this.#t.updates.bulkAdd(rows, { allKeys: true });
        return Number(keys[keys.length - 1]);
      }),
    );
  }

  async loadRoom(roomId: string): Promise<StoredRoomLog> {
    return this.loadRoomSince(roomId, 0);
  }

  async loadRoomSince(roomId: string, afterSeq: number): Promise<StoredRoomLog> {
    return this.#run('reading the room log', () =>
      this.#db.transaction('r', this.#t.updates, this.#t.snapshots, async () => {
        const snapshot = this.#parse('snapshots', SnapshotRowSchema, await this.#t.snapshots.get(roomId));
        const snapshotSeq = snapshot?.throughSeq ?? 0;
        const from = Math.max(afterSeq, snapshotSeq);
        const rows = await this.#t.updates.where('[roomId+seq]').between([roomId, from], [roomId, Dexie.maxKey], false, true).toArray();
        const updates = this.#parseAll('updates', UpdateRowSchema, rows).map(({ seq, update }) => ({ seq, update }));
        return { snapshot: snapshot && snapshotSeq > afterSeq ? snapshot.update : null, snapshotSeq, updates };
      }),
    );
  }

  async logStats(roomId: string): Promise<LogStats> {
    const log = await this.loadRoom(roomId);
    return { entries: log.updates.length, bytes: log.updates.reduce((sum, u) => sum + u.update.byteLength, 0) };
  }

  /**
   * Two transactions, so that merging (CPU work, hundreds of ms on a big room) never holds the
   * log locked: read, merge outside, then swap in one transaction that first checks nobody
   * (another tab) compacted meanwhile. Entries appended meanwhile have higher seqs and stay.
   */
  async compactRoom(roomId: string, merge: MergeUpdates): Promise<CompactionResult | null> {
    const log = await this.loadRoom(roomId);
    const last = log.updates[log.updates.length - 1];
    if (!last) return null;
    const parts = [...(log.snapshot ? [log.snapshot] : []), ...log.updates.map((u) => u.update)];
    const merged = await merge(parts);
    const throughSeq = last.seq;
    return this.#run('compacting the room log', () =>
      this.#db.transaction('rw', this.#t.updates, this.#t.snapshots, async () => {
        const current = this.#parse('snapshots', SnapshotRowSchema, await this.#t.snapshots.get(roomId));
        if ((current?.throughSeq ?? 0) !== log.snapshotSeq) return null;
        await this.#t.snapshots.put({ roomId, update: merged, throughSeq } satisfies SnapshotRow);
        await this.#t.updates.where('[roomId+seq]').between([roomId, Dexie.minKey], [roomId, throughSeq], true, true).delete();
        return { throughSeq, merged: log.updates.length, bytes: merged.byteLength };
      }),
    );
  }

  async deleteRoom(roomId: string): Promise<void> {
    const t = this.#t;
    await this.#run('deleting a room', () =>
      this.#db.transaction('rw', [t.updates, t.snapshots, t.roomSync, t.rooms, t.members, t.recentPages, t.uploads, t.uploadBytes], async () => {
        await t.updates.where('[roomId+seq]').between([roomId, Dexie.minKey], [roomId, Dexie.maxKey], true, true).delete();
        const uploads = await t.uploads.where('roomId').equals(roomId).primaryKeys();
        for (const messageId of uploads) await this.#deleteUploadIn(String(messageId));
        await Promise.all([t.snapshots.delete(roomId), t.roomSync.delete(roomId), t.rooms.delete(roomId), t.members.delete(roomId), t.recentPages.delete(roomId)]);
      }),
    );
  }

  async getRoomSync(roomId: string): Promise<RoomSyncRow | null> {
    return this.#run('reading sync state', async () => this.#parse('roomSync', RoomSyncRowSchema, await this.#t.roomSync.get(roomId)));
  }

  async putRoomSync(row: RoomSyncRow): Promise<void> {
    await this.#run('storing sync state', () => this.#t.roomSync.put(row));
  }

  async getRooms(): Promise<RoomRow[]> {
    return this.#run('reading the room list', async () => this.#parseAll('rooms', RoomRowSchema, await this.#t.rooms.toArray()));
  }

  async replaceRooms(rows: readonly RoomRow[]): Promise<void> {
    await this.#run('storing the room list', () =>
      this.#db.transaction('rw', this.#t.rooms, async () => {
        await this.#t.rooms.clear();
        await this.#t.rooms.bulkPut([...rows]);
      }),
    );
  }

  async putRoom(row: RoomRow): Promise<void> {
    await this.#run('storing a room', () => this.#t.rooms.put(row));
  }

  async getRecentPage(roomId: string): Promise<RecentPageRow | null> {
    return this.#run('reading a recent page', async () => this.#parse('recentPages', RecentPageRowSchema, await this.#t.recentPages.get(roomId)));
  }

  async putRecentPage(row: RecentPageRow): Promise<void> {
    await this.#run('storing a recent page', () => this.#t.recentPages.put(row));
  }

  async getMembers(roomId: string): Promise<MembersRow | null> {
    return this.#run('reading members', async () => this.#parse('members', MembersRowSchema, await this.#t.members.get(roomId)));
  }

  async putMembers(row: MembersRow): Promise<void> {
    await this.#run('storing members', () => this.#t.members.put(row));
  }

  async getPresence(userIds: readonly string[]): Promise<PresenceRow[]> {
    return this.#run('reading presence', async () =>
      this.#parseAll('presence', PresenceRowSchema, (await this.#t.presence.bulkGet([...userIds])).filter((row) => row !== undefined)),
    );
  }

  async putPresence(rows: readonly PresenceRow[]): Promise<void> {
    await this.#run('storing presence', () => this.#t.presence.bulkPut([...rows]));
  }

  async getUploads(): Promise<UploadRow[]> {
    const rows = await this.#run('reading uploads', async () => this.#parseAll('uploads', UploadRowSchema, await this.#t.uploads.toArray()));
    return rows.sort((a, b) => a.createdAt - b.createdAt || (a.messageId < b.messageId ? -1 : 1));
  }

  async putUpload(row: UploadRow, bytes?: readonly Uint8Array[]): Promise<void> {
    const t = this.#t;
    await this.#run('storing an upload', () =>
      this.#db.transaction('rw', t.uploads, t.uploadBytes, async () => {
        if (bytes) await t.uploadBytes.bulkPut(bytes.map((b, i) => ({ key: uploadBytesKey(row.messageId, i), bytes: b })));
        await t.uploads.put(row);
      }),
    );
  }

  async getUploadBytes(messageId: string, index: number): Promise<Uint8Array | null> {
    return this.#run('reading an upload', async () => this.#parse('uploadBytes', UploadBytesRowSchema, await this.#t.uploadBytes.get(uploadBytesKey(messageId, index)))?.bytes ?? null);
  }

  async deleteUpload(messageId: string): Promise<void> {
    await this.#run('deleting an upload', () => this.#db.transaction('rw', this.#t.uploads, this.#t.uploadBytes, () => this.#deleteUploadIn(messageId)));
  }

  /** Inside a transaction over uploads and uploadBytes. */
  async #deleteUploadIn(messageId: string): Promise<void> {
    await this.#t.uploads.delete(messageId);
    await this.#t.uploadBytes.where('key').startsWith(`${messageId}:`).delete();
  }

  async getClientIds(): Promise<ClientIdRow[]> {
    return this.#run('reading client ids', async () => this.#parseAll('clientIds', ClientIdRowSchema, await this.#t.clientIds.toArray()));
  }

  async putClientId(row: ClientIdRow): Promise<void> {
    await this.#run('storing a client id', () => this.#t.clientIds.put(row));
  }

  async getIdentity(): Promise<IdentityRow | null> {
    return this.#run('reading the identity', async () => this.#parse('meta', IdentityRowSchema, await this.#t.meta.get('identity')));
  }

  async putIdentity(row: IdentityRow): Promise<void> {
    await this.#run('storing the identity', () => this.#t.meta.put(row));
  }

  async getFeedCursor(): Promise<string | null> {
    return this.#run('reading the feed cursor', async () => this.#parse('meta', FeedCursorRowSchema, await this.#t.meta.get('feed'))?.cursor ?? null);
  }

  async putFeedCursor(cursor: string): Promise<void> {
    const row: FeedCursorRow = { key: 'feed', cursor };
    await this.#run('storing the feed cursor', () => this.#t.meta.put(row));
  }

  async close(): Promise<void> {
    this.#db.close();
  }

  async destroy(): Promise<void> {
    await this.#run('deleting the database', () => this.#db.delete());
  }

  #parse<S extends z.ZodType>(table: string, schema: S, raw: unknown): z.infer<S> | null {
    if (raw === undefined) return null;
    const parsed = schema.safeParse(raw);
    if (parsed.success) return parsed.data;
    this.#skipped += 1;
    this.#onInvalidRow?.(table, parsed.error.issues[0]?.message ?? 'invalid row');
    return null;
  }

  #parseAll<S extends z.ZodType>(table: string, schema: S, rows: readonly unknown[]): Array<z.infer<S>> {
    return rows.flatMap((raw) => {
      const row = this.#parse(table, schema, raw);
      return row === null ? [] : [row];
    });
  }

  async #run<T>(what: string, run: () => PromiseLike<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw storageError(error, what);
    }
  }

}
