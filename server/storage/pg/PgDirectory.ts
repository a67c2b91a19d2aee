import { ParleyError } from '../../../shared/errors/errorCodes.ts';
import type { ChatRoom, ChatRoomCreate, ChatRoomInDB } from '../../../shared/models/chatRoom.ts';
import { directConflict, type Directory, type LeaveOutcome, planRoom } from '../Directory.ts';
import { ROOM_COLUMNS, RoomRowSchema } from '../RoomRepo.ts';
import { parseRow } from '../sqlRows.ts';
import { PgAttachmentRepo } from './PgAttachmentRepo.ts';
import { PgFeedRepo } from './PgFeedRepo.ts';
import { PgMemberRepo } from './PgMemberRepo.ts';
import { PgMentionRepo } from './PgMentionRepo.ts';
import { PgPresenceRepo } from './PgPresenceRepo.ts';
import type { AsyncApi } from '../AsyncApi.ts';
import type { DirectoryApi } from '../DirectoryApi.ts';
import type { Queryable } from './pgRepos.ts';
import { PgRoomRepo } from './PgRoomRepo.ts';
import { transaction } from './pgTransactions.ts';
import { PgUserRepo } from './PgUserRepo.ts';

/**
 * What brings the projected columns up to date before a read returns them (see
 * PgDirectory.freshenProjectionsWith): it is given the directory of the read that asked, to write
 * through.
 */
export type FreshenHook = (directory: PgDirectory) => void | Promise<void>;

/**
 * Directory's operations, asynchronous, except two whose shape differs on purpose:
 * `transaction` hands its function the directory bound to the transaction (SQLite's function calls
 * the directory itself, since one connection serves everything), and `freshenProjectionsWith`
 * registers a hook (no I/O: it returns nothing, as in SQLite), which is handed that directory too.
 */
export type PgDirectoryApi = Omit<AsyncApi<Directory>, 'transaction' | 'freshenProjectionsWith'>;

/** pg_advisory_xact_lock's first key for the lock on a pair's direct room ('dird'); the second is the pair's hash. */
const DIRECT_PAIR_LOCK = 0x64697264;

/**
 * Users, rooms, members and presence (and the feed, mentions and attachments) on PostgreSQL, over
 * the pool or one connection inside a transaction (`transaction` makes the latter): Directory's
 * operations, which span tables and keep the room invariants, on repositories with the SQLite
 * ones' contracts.
 *
 * SQLite runs one writer at a time (BEGIN IMMEDIATE), so a check and the write that follows it
 * cannot be overtaken; here nodes write at once under READ COMMITTED, so the operations that decide
 * on what they read take a lock first: `leaveRoom` locks the room's row (`lockRoom`), so two
 * members leaving one room at once take turns and the room never ends up with active members and
 * no owner, or empty and active; `createRoom` of a direct room locks the pair, so two nodes
 * creating it at once give one room and one `conflict` naming it, as SQLite does.
 */
export class PgDirectory implements PgDirectoryApi, DirectoryApi {
  readonly users: PgUserRepo;
  readonly rooms: PgRoomRepo;
  readonly members: PgMemberRepo;
  readonly presence: PgPresenceRepo;
  /** The user feed's change log. */
  readonly feed: PgFeedRepo;
  /** Mentions held in segments nobody has loaded. */
  readonly mentions: PgMentionRepo;
  /** Uploads and the messages holding them (its writes run SERIALIZABLE on the pool; see PgAttachmentRepo). */
  readonly attachments: PgAttachmentRepo;
  readonly #db: Queryable;
  /** The directory on the pool, which holds the hook; a transaction's directory uses its root's. */
  readonly #root: PgDirectory;
  #freshen: FreshenHook = () => {};

  /** A directory on `db`; `root`, for a transaction's directory, is the one whose freshen hook applies. */
  constructor(db: Queryable, root?: PgDirectory) {
    this.#db = db;
    this.#root = root ?? this;
    const freshen = (): void | Promise<void> => this.#root.#freshen(this);
    this.users = new PgUserRepo(db);
    this.rooms = new PgRoomRepo(db, freshen);
    this.members = new PgMemberRepo(db, freshen);
    this.presence = new PgPresenceRepo(db);
    this.feed = new PgFeedRepo(db);
    this.mentions = new PgMentionRepo(db);
    this.attachments = new PgAttachmentRepo(db);
  }

  /**
   * Registers what brings `rooms.last_message` and `members.last_read_at` up to date: the reads that
   * return them await it first. It is handed the directory of the read, so inside a transaction it
   * writes in that transaction (as SQLite's nested transaction does) rather than on another
   * connection, where it would wait for rows the transaction holds.
   */
  freshenProjectionsWith(fn: FreshenHook): void {
    this.#root.#freshen = fn;
  }

  /**
   * Runs `fn` in one transaction, handing it the directory bound to that transaction's connection:
   * COMMIT when it resolves, ROLLBACK when it throws (rethrown). Inside a transaction (a
   * transaction's directory), a savepoint: `fn` throwing undoes its own writes only, as SQLite's
   * nested transactions. A transaction of its own is run again when PostgreSQL aborts it for a
   * deadlock or a serialization failure, so `fn` may run more than once: it must only do its work
   * through the directory it is given. READ COMMITTED: a check followed by a write needs a lock
   * (`lockRoom`) where SQLite's BEGIN IMMEDIATE serializes every writer.
   */
  transaction<T>(fn: (tx: PgDirectory) => Promise<T>): Promise<T> {
    return transaction(this.#db, (client) => fn(new PgDirectory(client, this.#root)));
  }

  /**
   * The room, its row locked until the transaction ends (FOR NO KEY UPDATE), or null: whoever
   * changes a room's membership after checking it locks the room first, so that such changes of one
   * room take turns across nodes. Meaningful inside a transaction only.
   */
  async lockRoom(roomId: string): Promise<ChatRoomInDB | null> {
    const { rows } = await this.#db.query(`SELECT ${ROOM_COLUMNS} FROM rooms r WHERE r.id = $1 FOR NO KEY UPDATE`, [roomId]);
    return rows[0] === undefined ? null : parseRow(RoomRowSchema, rows[0], 'rooms');
  }

  /**
   * Creates a room with the creator as owner and the initial members, in one transaction (see
   * Directory.createRoom). A direct room's pair is locked before the check for an existing one.
   */
  async createRoom(input: ChatRoomCreate, creatorId: string, now: number = Date.now()): Promise<ChatRoom> {
    const plan = planRoom(input, creatorId);
    return this.transaction(async (tx) => {
      if (plan.directPeer !== null) {
        await tx.#db.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [DIRECT_PAIR_LOCK, plan.room.direct_key]);
        const existing = await tx.rooms.findDirect(creatorId, plan.directPeer);
        if (existing) throw directConflict(existing.id);
      }
      const room = await tx.rooms.insert(plan.room, now);
      for (const member of plan.members) await tx.members.insert({ roomId: room.id, ...member }, now);
      const summary = await tx.rooms.getSummary(room.id);
      if (!summary) throw new Error(`room ${room.id} vanished inside its own transaction`);
      return summary;
    });
  }

  /**
   * Deactivates the caller's membership, handing the room on or deactivating it as
   * Directory.leaveRoom does, with the room's row locked (`lockRoom`) from the first read.
   */
  async leaveRoom(roomId: string, userId: string, now: number = Date.now()): Promise<LeaveOutcome> {
    return this.transaction(async (tx) => {
      const room = await tx.lockRoom(roomId);
      if (!room) throw new ParleyError('not_found', 'no such room');
      const member = await tx.members.get(roomId, userId);
      if (!member?.is_active) throw new ParleyError('not_a_member', 'not an active member of this room');
      if (room.type === 'direct') {
        throw new ParleyError('forbidden', 'a direct room cannot be left; deactivate it instead (PATCH is_active: false)');
      }

      let newOwnerId: string | null = null;
      if (member.role === 'owner' && (await tx.members.countActiveOwners(roomId)) === 1) {
        const heir = await tx.members.successor(roomId, userId);
        if (heir) {
          await tx.members.update(roomId, heir.user_id, { role: 'owner' }, now);
          newOwnerId = heir.user_id;
        }
      }
      await tx.members.update(roomId, userId, { is_active: false }, now);

      const roomDeactivated = room.is_active && (await tx.members.countActive(roomId)) === 0;
      if (roomDeactivated) await tx.rooms.update(roomId, { is_active: false }, now);
      return { newOwnerId, roomDeactivated };
    });
  }
}
