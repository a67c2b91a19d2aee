/** What storage holds for one room: a compacted snapshot (if any) and the updates logged after it. */
export interface StoredRoom {
  snapshot: Uint8Array | null;
  updates: Uint8Array[];
  /** Sequence number of the newest update (or of the last one merged into the snapshot); 0 for a new room. */
  lastSeq: number;
  /** Which user owns each Yjs client id that has written to the room (see ClientBinding). */
  clientOwners: Array<[clientId: number, userId: string]>;
}

export interface AppendEntry {
  roomId: string;
  update: Uint8Array;
}

/**
 * The first user to write to a room with a Yjs client id owns it there. A binding is stored in
 * the same transaction as the update that made it, so no stored update has an unbound writer.
 */
export interface ClientBinding {
  roomId: string;
  clientId: number;
  userId: string;
}

export interface RoomLogStats {
  /** Updates in the log that no snapshot covers yet. */
  updates: number;
  /** Their total size in bytes. */
  bytes: number;
  snapshotBytes: number;
}

/**
 * Where room documents live: an append-only log of Yjs updates (V1) per room plus a compacted
 * snapshot. Every method is synchronous (better-sqlite3) so a commit can sit between applying
 * an update and relaying it without an await in the sync path.
 */
export interface UpdateStore {
  load(roomId: string): StoredRoom;
  /** Appends every entry and records every binding in one transaction (group commit); all or nothing. */
  append(entries: readonly AppendEntry[], bindings?: readonly ClientBinding[]): void;
  /**
   * Atomically replaces the snapshot and every logged update with seq <= upToSeq by `snapshot`,
   * which must contain all of them. Updates logged after upToSeq stay. A crash at any point
   * leaves either the old or the new state, never a mix.
   */
  compact(roomId: string, snapshot: Uint8Array, upToSeq: number): void;
  stats(roomId: string): RoomLogStats;
  close(): void;
}

/**
 * The fencing token each room of a write was taken with (PgUpdateStore.takeFence), by room id (a
 * room's head and segments share their room's): a write is refused unless every room it touches
 * still has that token, so a node that lost a room to another (a long pause, a partition) can
 * never write it again.
 */
export type Fences = ReadonlyMap<string, number>;

/**
 * UpdateStore over a database reached through the network (PostgreSQL): the same contract, each
 * method a promise; the contract suite (updateStore.contract.test.ts) runs on both. `append` and
 * `compact` take the writer's fences when several nodes share the database (docs/scale-out.md).
 */
export interface AsyncUpdateStore {
  load(docName: string): Promise<StoredRoom>;
  append(entries: readonly AppendEntry[], bindings?: readonly ClientBinding[], fences?: Fences): Promise<void>;
  compact(docName: string, snapshot: Uint8Array, upToSeq: number, fences?: Fences): Promise<void>;
  stats(docName: string): Promise<RoomLogStats>;
  close(): Promise<void>;
}
