import type { ChatRoom, ChatRoomCreate, ChatRoomInDB } from '../../shared/models/chatRoom.ts';
import type { AsyncApi } from './AsyncApi.ts';
import type { AttachmentRepo } from './AttachmentRepo.ts';
import type { Directory, LeaveOutcome } from './Directory.ts';
import type { FeedRepo } from './FeedRepo.ts';
import type { MemberRepo } from './MemberRepo.ts';
import type { MentionRepo } from './MentionRepo.ts';
import type { PresenceRepo } from './PresenceRepo.ts';
import type { RoomRepo } from './RoomRepo.ts';
import { SqliteAsync, sqliteAsync } from './SqliteAsync.ts';
import type { UserRepo } from './UserRepo.ts';

/**
 * The directory as the server's callers use it, on either backend: SQLite (`SqliteDirectory`,
 * resolving at once) or PostgreSQL (`PgDirectory`). Directory's operations, asynchronous, plus
 * `lockRoom`, and a `transaction` that hands its function the directory bound to the
 * transaction: everything the function reads and writes goes through that one, never through
 * the directory `transaction` was called on (on PostgreSQL that one runs outside the transaction).
 */
export interface DirectoryApi {
  readonly users: AsyncApi<UserRepo>;
  readonly rooms: AsyncApi<RoomRepo>;
  readonly members: AsyncApi<MemberRepo>;
  readonly presence: AsyncApi<PresenceRepo>;
  readonly feed: AsyncApi<FeedRepo>;
  readonly mentions: AsyncApi<MentionRepo>;
  readonly attachments: AsyncApi<AttachmentRepo>;
  /** Directory.createRoom. */
  createRoom(input: ChatRoomCreate, creatorId: string, now?: number): Promise<ChatRoom>;
  /** Directory.leaveRoom. */
  leaveRoom(roomId: string, userId: string, now?: number): Promise<LeaveOutcome>;
  /**
   * Runs `fn` in one transaction (a savepoint when nested). It may run more than once on
   * PostgreSQL (after a deadlock), and on SQLite it must not wait for anything but the directory
   * (SqliteAsync), so `fn` does nothing but its work through `tx`.
   */
  transaction<R>(fn: (tx: DirectoryApi) => Promise<R>): Promise<R>;
  /**
   * The room, locked until the transaction ends, or null. Whoever checks a room's membership and
   * then changes it calls this first inside the transaction, so that such changes of one room take
   * turns across nodes (SQLite's BEGIN IMMEDIATE serializes every writer already).
   */
  lockRoom(roomId: string): Promise<ChatRoomInDB | null>;
  /**
   * Registers what brings the columns projected from room documents (`rooms.last_message`,
   * members' read times, unread and mention counts) up to date: the reads that return them await
   * it first, handing it the directory of the read (inside a transaction, that transaction's), so
   * that it writes where the read will look.
   */
  freshenProjectionsWith(fn: FreshenProjections): void;
}

/** See DirectoryApi.freshenProjectionsWith. */
export type FreshenProjections = (directory: DirectoryApi) => void | Promise<void>;

/** The SQLite repositories' reads that return projected columns (they call their `freshen`; PostgreSQL's await theirs). */
const FRESHENED_ROOM_READS = ['getSummary', 'listForUser'] as const satisfies readonly (keyof RoomRepo)[];
const FRESHENED_MEMBER_READS = ['getWithUser', 'list', 'unreadCount', 'roomsTouchedSince', 'personal', 'mentionCount'] as const satisfies readonly (keyof MemberRepo)[];

/** The SQLite Directory as a DirectoryApi (one per database: its transactions queue on one SqliteAsync). */
export class SqliteDirectory implements DirectoryApi {
  readonly users: AsyncApi<UserRepo>;
  readonly rooms: AsyncApi<RoomRepo>;
  readonly members: AsyncApi<MemberRepo>;
  readonly presence: AsyncApi<PresenceRepo>;
  readonly feed: AsyncApi<FeedRepo>;
  readonly mentions: AsyncApi<MentionRepo>;
  readonly attachments: AsyncApi<AttachmentRepo>;
  /** The synchronous directory underneath (the commit path and the storage worker's side use it directly). */
  readonly sync: Directory;
  readonly #sqlite: SqliteAsync;
  #freshen: FreshenProjections = () => {};

  constructor(directory: Directory, sqlite: SqliteAsync) {
    this.sync = directory;
    this.#sqlite = sqlite;
    // A read with `{ fresh: false }` as its last argument asks for the columns as they are.
    const freshen = { names: [...FRESHENED_ROOM_READS, ...FRESHENED_MEMBER_READS], run: (args: readonly unknown[]) => (isStaleRead(args) ? undefined : this.#freshen(this)) };
    this.users = sqliteAsync(directory.users, sqlite);
    this.rooms = sqliteAsync(directory.rooms, sqlite, freshen);
    this.members = sqliteAsync(directory.members, sqlite, freshen);
    this.presence = sqliteAsync(directory.presence, sqlite);
    this.feed = sqliteAsync(directory.feed, sqlite);
    this.mentions = sqliteAsync(directory.mentions, sqlite);
    this.attachments = sqliteAsync(directory.attachments, sqlite);
  }

  createRoom(input: ChatRoomCreate, creatorId: string, now?: number): Promise<ChatRoom> {
    return this.#sqlite.call(() => this.sync.createRoom(input, creatorId, now));
  }

  leaveRoom(roomId: string, userId: string, now?: number): Promise<LeaveOutcome> {
    return this.#sqlite.call(() => this.sync.leaveRoom(roomId, userId, now));
  }

  transaction<R>(fn: (tx: DirectoryApi) => Promise<R>): Promise<R> {
    return this.#sqlite.transaction(() => fn(this));
  }

  lockRoom(roomId: string): Promise<ChatRoomInDB | null> {
    return this.#sqlite.call(() => this.sync.rooms.get(roomId));
  }

  freshenProjectionsWith(fn: FreshenProjections): void {
    this.#freshen = fn;
  }
}

function isStaleRead(args: readonly unknown[]): boolean {
  const last = args.at(-1);
  return typeof last === 'object' && last !== null && 'fresh' in last && last.fresh === false;
}
