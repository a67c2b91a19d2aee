import type { ClientIdRow, IdentityRow, MembersRow, PresenceRow, RecentPageRow, RoomRow, RoomSyncRow, UploadRow } from './storedRecords.ts';

/** A room's stored log: its snapshot (if compacted) and the entries after it, in order. */
export interface StoredRoomLog {
  readonly snapshot: Uint8Array | null;
  /** The last log entry the snapshot covers (0 without a snapshot). */
  readonly snapshotSeq: number;
  readonly updates: ReadonlyArray<{ readonly seq: number; readonly update: Uint8Array }>;
}

export interface LogStats {
  /** Entries after the snapshot, and their bytes: what the next compaction would merge. */
  readonly entries: number;
  readonly bytes: number;
}

/**
 * Merges a snapshot and log entries (in order) into one update. It may answer later: merging a
 * big room is tens of milliseconds of CPU, which a browser app runs in a Web Worker.
 */
export type MergeUpdates = (updates: readonly Uint8Array[]) => Uint8Array | Promise<Uint8Array>;

export interface CompactionResult {
  readonly throughSeq: number;
  readonly merged: number;
  readonly bytes: number;
}

/**
 * Everything the SDK stores on the device. Every write resolves only once it is durable in the
 * underlying database (an IndexedDB transaction completed) and rejects with the database's error
 * (a QuotaExceededError included) instead of swallowing it. Every read parses what it finds.
 *
 * Two implementations run one contract suite (test/client/localStore.contract.test.ts):
 * DexieLocalStore (IndexedDB, the product) and MemoryLocalStore (tests, Node tools, and apps that
 * want no persistence).
 */
export interface LocalStore {
  /** Appends Yjs V1 updates to a room's log in one transaction; resolves with the last seq. */
  appendUpdates(roomId: string, updates: readonly Uint8Array[]): Promise<number>;
  /** The room's snapshot and every log entry after it. */
  loadRoom(roomId: string): Promise<StoredRoomLog>;
  /**
   * What changed after `afterSeq` (a reader that already applied everything up to it): the log
   * entries after it, plus the snapshot when a compaction merged entries the reader has not seen.
   */
  loadRoomSince(roomId: string, afterSeq: number): Promise<StoredRoomLog>;
  logStats(roomId: string): Promise<LogStats>;
  /**
   * Merges the snapshot and every log entry present now into a new snapshot and deletes those
   * entries, atomically: a crash leaves the old or the new state, and entries appended while it
   * runs stay in the log. Null when there was nothing to merge or another compaction won.
   */
  compactRoom(roomId: string, merge: MergeUpdates): Promise<CompactionResult | null>;
  /** Removes a room's log, snapshot, sync state, cached rows and waiting uploads (the user left it). */
  deleteRoom(roomId: string): Promise<void>;

  getRoomSync(roomId: string): Promise<RoomSyncRow | null>;
  putRoomSync(row: RoomSyncRow): Promise<void>;

  getRooms(): Promise<RoomRow[]>;
  /** Replaces the whole cached room list (rooms missing from `rows` are removed from the cache). */
  replaceRooms(rows: readonly RoomRow[]): Promise<void>;
  putRoom(row: RoomRow): Promise<void>;

  /** A segmented room's newest messages as last seen (deleteRoom drops them too). */
  getRecentPage(roomId: string): Promise<RecentPageRow | null>;
  putRecentPage(row: RecentPageRow): Promise<void>;

  getMembers(roomId: string): Promise<MembersRow | null>;
  putMembers(row: MembersRow): Promise<void>;
  getPresence(userIds: readonly string[]): Promise<PresenceRow[]>;
  putPresence(rows: readonly PresenceRow[]): Promise<void>;

  /**
   * Messages with attachments waiting to be uploaded (UploadQueue), oldest first. `putUpload` with
   * `bytes` stores the row and its files' bytes in one transaction; without, the row alone.
   */
  getUploads(): Promise<UploadRow[]>;
  putUpload(row: UploadRow, bytes?: readonly Uint8Array[]): Promise<void>;
  /** The bytes of file `index` of an upload, null when gone (discarded, or the row is corrupt). */
  getUploadBytes(messageId: string, index: number): Promise<Uint8Array | null>;
  deleteUpload(messageId: string): Promise<void>;

  getClientIds(): Promise<ClientIdRow[]>;
  putClientId(row: ClientIdRow): Promise<void>;

  getIdentity(): Promise<IdentityRow | null>;
  putIdentity(row: IdentityRow): Promise<void>;

  /** The user feed's cursor (null before the first feed frame was stored). */
  getFeedCursor(): Promise<string | null>;
  putFeedCursor(cursor: string): Promise<void>;

  /** Closes the store and deletes everything it holds (signing out: nothing of the user stays on the device). */
  destroy(): Promise<void>;

  /** Rows that failed to parse since the store opened (skipped, never used). */
  readonly skippedRows: number;
  close(): Promise<void>;
}
