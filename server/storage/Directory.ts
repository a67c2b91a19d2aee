import { uuidv4 } from '../../shared/ids.ts';
import { ParleyError } from '../../shared/errors/errorCodes.ts';
import type { ChatMemberRole } from '../../shared/models/chatMember.ts';
import type { ChatRoom, ChatRoomCreate } from '../../shared/models/chatRoom.ts';
import type { Db } from './openDatabase.ts';
import { AttachmentRepo } from './AttachmentRepo.ts';
import { MentionRepo } from './MentionRepo.ts';
import { FeedRepo } from './FeedRepo.ts';
import { MemberRepo } from './MemberRepo.ts';
import { PresenceRepo } from './PresenceRepo.ts';
import { RoomRepo, directKeyOf, type NewRoom } from './RoomRepo.ts';
import { UserRepo } from './UserRepo.ts';

/** A request problem in the shape of a zod issue, so every 400 `invalid_payload` has one `details` format. */
const issue = (path: (string | number)[], message: string) => ({ code: 'custom', path, message });

/** What leaving a room did besides deactivating the leaver. */
export interface LeaveOutcome {
  /** Who became owner because the leaver was the last one; null when no hand-over happened. */
  newOwnerId: string | null;
  /** True when the leaver was the last active member: an empty room is deactivated. */
  roomDeactivated: boolean;
}

/**
 * Users, rooms, members and presence over one SQLite database: synchronous (better-sqlite3),
 * every statement prepared once. The repos answer single-table questions; the operations here
 * span tables and keep the room invariants (a direct room is unique per pair; a room with
 * active members always has an active owner).
 */
export class Directory {
  readonly users: UserRepo;
  readonly rooms: RoomRepo;
  readonly members: MemberRepo;
  readonly presence: PresenceRepo;
  /** The user feed's change log. */
  readonly feed: FeedRepo;
  /** Mentions held in segments nobody has loaded (RoomSummaries' mention counts). */
  readonly mentions: MentionRepo;
  /** Uploads and the messages holding them (docs/attachments.md). */
  readonly attachments: AttachmentRepo;
  readonly #db: Db;
  #freshen: () => void = () => {};

  constructor(db: Db) {
    this.#db = db;
    const freshen = (): void => this.#freshen();
    this.users = new UserRepo(db);
    this.feed = new FeedRepo(db);
    this.mentions = new MentionRepo(db);
    this.attachments = new AttachmentRepo(db);
    this.rooms = new RoomRepo(db, freshen);
    this.members = new MemberRepo(db, this.users, freshen);
    this.presence = new PresenceRepo(db, this.users);
  }

  /**
   * Registers what brings the columns the sync layer projects from room documents
   * (`rooms.last_message`, `members.last_read_at`) up to date: the reads that return them call it
   * first, so those columns can be written lazily, not on every commit, and still never read stale.
   */
  freshenProjectionsWith(fn: () => void): void {
    this.#freshen = fn;
  }

  /**
   * Runs `fn` in one transaction (a savepoint when nested). BEGIN IMMEDIATE takes the write
   * lock up front, so a read-then-write (check, then insert) cannot be overtaken by another
   * process sharing the file; waiting for the lock is bounded by busy_timeout.
   */
  transaction<T>(fn: () => T): T {
    return this.#db.transaction(fn).immediate();
  }

  /**
   * Creates a room with the creator as owner and the initial members, in one transaction.
   * Members who never logged in get a placeholder user (name NULL).
   * Direct rooms: exactly one other member; both people are owners (neither has power over
   * the other); at most one per pair, else `conflict` with `details.room_id` of the existing one.
   */
  createRoom(input: ChatRoomCreate, creatorId: string, now: number = Date.now()): ChatRoom {
    const plan = planRoom(input, creatorId);
    return this.transaction(() => {
      if (plan.directPeer !== null) {
        const existing = this.rooms.findDirect(creatorId, plan.directPeer);
        if (existing) throw directConflict(existing.id);
      }
      const room = this.rooms.insert(plan.room, now);
      for (const member of plan.members) this.members.insert({ roomId: room.id, ...member }, now);
      return this.#summary(room.id);
    });
  }

  /**
   * Deactivates the caller's membership. The last owner hands the room to the next in line
   * (MemberRepo.successor); the last member out deactivates the room, since nobody could
   * reach it any more. Direct rooms cannot be left (deactivate the room instead).
   */
  leaveRoom(roomId: string, userId: string, now: number = Date.now()): LeaveOutcome {
    return this.transaction(() => {
      const room = this.rooms.get(roomId);
      if (!room) throw new ParleyError('not_found', 'no such room');
      const member = this.members.get(roomId, userId);
      if (!member?.is_active) throw new ParleyError('not_a_member', 'not an active member of this room');
      if (room.type === 'direct') {
        throw new ParleyError('forbidden', 'a direct room cannot be left; deactivate it instead (PATCH is_active: false)');
      }

      let newOwnerId: string | null = null;
      if (member.role === 'owner' && this.members.countActiveOwners(roomId) === 1) {
        const heir = this.members.successor(roomId, userId);
        if (heir) {
          this.members.update(roomId, heir.user_id, { role: 'owner' }, now);
          newOwnerId = heir.user_id;
        }
      }
      this.members.update(roomId, userId, { is_active: false }, now);

      const roomDeactivated = room.is_active && this.members.countActive(roomId) === 0;
      if (roomDeactivated) this.rooms.update(roomId, { is_active: false }, now);
      return { newOwnerId, roomDeactivated };
    });
  }

  #summary(roomId: string): ChatRoom {
    const room = this.rooms.getSummary(roomId);
    if (!room) throw new Error(`room ${roomId} vanished inside its own transaction`);
    return room;
  }
}

/** What createRoom inserts, checked (shared with PgDirectory). */
export interface RoomPlan {
  readonly room: NewRoom;
  /** The other person of a direct room (whose direct_key is set); null for other rooms. */
  readonly directPeer: string | null;
  /** The creator (owner) first, then the initial members; both people own a direct room. */
  readonly members: readonly { userId: string; role: ChatMemberRole }[];
}

/** Checks createRoom's input (`invalid_payload` with one issue per problem) and plans the rows. */
export function planRoom(input: ChatRoomCreate, creatorId: string): RoomPlan {
  const problems = initialMemberProblems(input, creatorId);
  if (problems.length > 0) throw new ParleyError('invalid_payload', 'invalid initial members', problems);
  const other = input.members[0];
  const directPeer = input.type === 'direct' && other !== undefined ? other.user_id : null;
  return {
    room: {
      id: uuidv4(),
      name: input.name,
      type: input.type,
      company_id: input.company_id,
      is_active: input.is_active,
      extra_metadata: input.extra_metadata,
      direct_key: directPeer === null ? null : directKeyOf(creatorId, directPeer),
    },
    directPeer,
    members: [
      { userId: creatorId, role: 'owner' },
      ...input.members.map((member) => ({ userId: member.user_id, role: input.type === 'direct' ? ('owner' as const) : member.role })),
    ],
  };
}

/** A direct room of the pair exists already: `conflict`, naming it. */
export const directConflict = (roomId: string): ParleyError => new ParleyError('conflict', 'a direct room already exists for this pair', { room_id: roomId });

function initialMemberProblems(input: ChatRoomCreate, creatorId: string): ReturnType<typeof issue>[] {
  const problems: ReturnType<typeof issue>[] = [];
  const seen = new Set<string>();
  input.members.forEach((member, index) => {
    if (member.user_id === creatorId) {
      problems.push(issue(['members', index, 'user_id'], 'the creator is added as owner; do not list them'));
    } else if (seen.has(member.user_id)) {
      problems.push(issue(['members', index, 'user_id'], 'duplicate member'));
    }
    seen.add(member.user_id);
  });
  if (input.type === 'direct' && input.members.length !== 1) {
    problems.push(issue(['members'], 'a direct room has exactly one member besides its creator'));
  }
  return problems;
}
