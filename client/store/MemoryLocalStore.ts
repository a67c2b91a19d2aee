import type { CompactionResult, LocalStore, LogStats, MergeUpdates, StoredRoomLog } from './LocalStore.ts';
import { type ClientIdRow, type IdentityRow, type MembersRow, type PresenceRow, type RecentPageRow, type RoomRow, type RoomSyncRow, type SnapshotRow, type UploadRow, uploadBytesKey } from './storedRecords.ts';
import { ClientError } from '../errors/ClientError.ts';

/**
 * LocalStore in memory, with the same contract as DexieLocalStore (one suite runs both). Rows are
 * copied in and out, so callers never share a stored object. Hand the same instance to a new
 * ChatClient to model a reload; it lives as long as the process.
 */
export class MemoryLocalStore implements LocalStore {
  #seq = 0;
  readonly #log = new Map<string, Array<{ seq: number; update: Uint8Array }>>();
  readonly #snapshots = new Map<string, SnapshotRow>();
  readonly #roomSync = new Map<string, RoomSyncRow>();
  #rooms = new Map<string, RoomRow>();
  readonly #members = new Map<string, MembersRow>();
  readonly #recentPages = new Map<string, RecentPageRow>();
  readonly #presence = new Map<string, PresenceRow>();
  readonly #clientIds = new Map<number, ClientIdRow>();
  readonly #uploads = new Map<string, UploadRow>();
  readonly #uploadBytes = new Map<string, Uint8Array>();
  #identity: IdentityRow | null = null;
  #feedCursor: string | null = null;
  #closed = false;

  readonly skippedRows = 0;

  async appendUpdates(roomId: string, updates: readonly Uint8Array[]): Promise<number> {
    this.#check();
    const log = this.#log.get(roomId) ?? [];
    this.#log.set(roomId, log);
    for (const update of updates) log.push({ seq: ++this.#seq, update: update.slice() });
    return updates.length === 0 ? 0 : this.#seq;
  }

  async loadRoom(roomId: string): Promise<StoredRoomLog> {
    return this.loadRoomSince(roomId, 0);
  }

  async loadRoomSince(roomId: string, afterSeq: number): Promise<StoredRoomLog> {
    this.#check();
    const snapshot = this.#snapshots.get(roomId);
    const snapshotSeq = snapshot?.throughSeq ?? 0;
    const from = Math.max(afterSeq, snapshotSeq);
    const updates = (this.#log.get(roomId) ?? []).filter((u) => u.seq > from).map((u) => ({ seq: u.seq, update: u.update.slice() }));
    return { snapshot: snapshot && snapshotSeq > afterSeq ? snapshot.update.slice() : null, snapshotSeq, updates };
  }

  async logStats(roomId: string): Promise<LogStats> {
    const { updates } = await this.loadRoom(roomId);
    return { entries: updates.length, bytes: updates.reduce((sum, u) => sum + u.update.byteLength, 0) };
  }

  async compactRoom(roomId: string, merge: MergeUpdates): Promise<CompactionResult | null> {
    const log = await this.loadRoom(roomId);
    const last = log.updates[log.updates.length - 1];
    if (!last) return null;
    const merged = await merge([...(log.snapshot ? [log.snapshot] : []), ...log.updates.map((u) => u.update)]);
    // Yield like an IndexedDB transaction would, so appends can interleave exactly as there.
    await Promise.resolve();
    this.#check();
    if ((this.#snapshots.get(roomId)?.throughSeq ?? 0) !== log.snapshotSeq) return null;
    this.#snapshots.set(roomId, { roomId, update: merged, throughSeq: last.seq });
    this.#log.set(roomId, (this.#log.get(roomId) ?? []).filter((u) => u.seq > last.seq));
    return { throughSeq: last.seq, merged: log.updates.length, bytes: merged.byteLength };
  }

  async deleteRoom(roomId: string): Promise<void> {
    this.#check();
    for (const map of [this.#log, this.#snapshots, this.#roomSync, this.#rooms, this.#members, this.#recentPages]) map.delete(roomId);
    for (const row of [...this.#uploads.values()]) if (row.roomId === roomId) this.#dropUpload(row.messageId);
  }

  async getUploads(): Promise<UploadRow[]> {
    return [...this.#checked(this.#uploads).values()].map(copy).sort((a, b) => a.createdAt - b.createdAt || (a.messageId < b.messageId ? -1 : 1));
  }

  async putUpload(row: UploadRow, bytes?: readonly Uint8Array[]): Promise<void> {
    this.#check();
    bytes?.forEach((b, i) => this.#uploadBytes.set(uploadBytesKey(row.messageId, i), b.slice()));
    this.#uploads.set(row.messageId, copy(row));
  }

  async getUploadBytes(messageId: string, index: number): Promise<Uint8Array | null> {
    return this.#checked(this.#uploadBytes).get(uploadBytesKey(messageId, index))?.slice() ?? null;
  }

  async deleteUpload(messageId: string): Promise<void> {
    this.#check();
    this.#dropUpload(messageId);
  }

  #dropUpload(messageId: string): void {
    this.#uploads.delete(messageId);
    for (const key of [...this.#uploadBytes.keys()]) if (key.startsWith(`${messageId}:`)) this.#uploadBytes.delete(key);
  }

  async getRoomSync(roomId: string): Promise<RoomSyncRow | null> {
    return copy(this.#checked(this.#roomSync).get(roomId) ?? null);
  }

  async putRoomSync(row: RoomSyncRow): Promise<void> {
    this.#checked(this.#roomSync).set(row.roomId, copy(row));
  }

  async getRooms(): Promise<RoomRow[]> {
    return [...this.#checked(this.#rooms).values()].map(copy);
  }

  async replaceRooms(rows: readonly RoomRow[]): Promise<void> {
    this.#check();
    this.#rooms = new Map(rows.map((row) => [row.id, copy(row)]));
  }

  async putRoom(row: RoomRow): Promise<void> {
    this.#checked(this.#rooms).set(row.id, copy(row));
  }

  async getRecentPage(roomId: string): Promise<RecentPageRow | null> {
    return copy(this.#checked(this.#recentPages).get(roomId) ?? null);
  }

  async putRecentPage(row: RecentPageRow): Promise<void> {
    this.#checked(this.#recentPages).set(row.roomId, copy(row));
  }

  async getMembers(roomId: string): Promise<MembersRow | null> {
    return copy(this.#checked(this.#members).get(roomId) ?? null);
  }

  async putMembers(row: MembersRow): Promise<void> {
    this.#checked(this.#members).set(row.roomId, copy(row));
  }

  async getPresence(userIds: readonly string[]): Promise<PresenceRow[]> {
    const presence = this.#checked(this.#presence);
    return userIds.flatMap((id) => {
      const row = presence.get(id);
      return row ? [copy(row)] : [];
    });
  }

  async putPresence(rows: readonly PresenceRow[]): Promise<void> {
    const presence = this.#checked(this.#presence);
    for (const row of rows) presence.set(row.user_id, copy(row));
  }

  async getClientIds(): Promise<ClientIdRow[]> {
    return [...this.#checked(this.#clientIds).values()].map(copy);
  }

  async putClientId(row: ClientIdRow): Promise<void> {
    this.#checked(this.#clientIds).set(row.clientId, copy(row));
  }

  async getIdentity(): Promise<IdentityRow | null> {
    this.#check();
    return copy(this.#identity);
  }

  async putIdentity(row: IdentityRow): Promise<void> {
    this.#check();
    this.#identity = copy(row);
  }

  async getFeedCursor(): Promise<string | null> {
    this.#check();
    return this.#feedCursor;
  }

  async putFeedCursor(cursor: string): Promise<void> {
    this.#check();
    this.#feedCursor = cursor;
  }

  /** Closing models a closed database handle; `reopen()` models the next page load. */
  async close(): Promise<void> {
    this.#closed = true;
  }

  async destroy(): Promise<void> {
    this.#closed = true;
    this.#log.clear();
    this.#snapshots.clear();
    this.#roomSync.clear();
    this.#rooms.clear();
    this.#members.clear();
    this.#recentPages.clear();
    this.#presence.clear();
    this.#clientIds.clear();
    this.#uploads.clear();
    this.#uploadBytes.clear();
    this.#identity = null;
    this.#feedCursor = null;
  }

  reopen(): this {
    this.#closed = false;
    return this;
  }

  #check(): void {
    if (this.#closed) throw new ClientError('storage_failed', 'the memory store is closed');
  }

  #checked<M>(map: M): M {
    this.#check();
    return map;
  }
}

const copy = <T>(value: T): T => structuredClone(value);
