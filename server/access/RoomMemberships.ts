import type { ChatMemberRole } from '../../shared/models/chatMember.ts';
import type { DirectoryApi } from '../storage/DirectoryApi.ts';
import type { Membership } from '../storage/MemberRepo.ts';

/** One room's memberships in memory, and the reads of it, which apply one after another. */
interface Entry {
  readonly members: Map<string, Membership>;
  /** Settles when the reads queued so far have applied (each one's failure is its caller's). */
  tail: Promise<void>;
  /** False until a whole read of the room applied, and again after a refresh failed. */
  loaded: boolean;
  /** The whole read queued and not yet applied, which `ready` callers share. */
  loading: Promise<void> | null;
}

/**
 * The memberships of the rooms with loaded documents, in memory, for the update validator: it
 * checks a sender's role, since when they are a member and whether a mentioned user is one on every
 * update, synchronously, and a directory on PostgreSQL cannot answer synchronously (nor should the
 * sync path wait for a round trip per update on SQLite).
 *
 * - `ready(roomId)` loads a room's memberships before its first peer joins (RoomRegistry awaits it
 *   on every open a peer makes), and resolves at once when they are loaded.
 * - `changed(roomId, userId)` reads one member again after their membership changed (a REST route
 *   on this node, or a directory event from another): reads of one room apply in the order they
 *   were asked, so the last change wins. On SQLite the read resolves before the next frame is
 *   handled, so a role changed over REST applies to the very next update, as before; on
 *   PostgreSQL, after one round trip.
 * - `forget(roomId)` when the room's last document unloads.
 *
 * A room not loaded here answers as if nobody were a member (no role, no membership date): a
 * validator reading it refuses what needs a membership rather than allowing it.
 */
export class RoomMemberships {
  readonly #directory: DirectoryApi;
  readonly #rooms = new Map<string, Entry>();

  constructor(directory: DirectoryApi) {
    this.#directory = directory;
  }

  /** Resolves once the room's memberships are in memory (null: they are already); rejects when reading them failed. */
  ready(roomId: string): Promise<void> | null {
    let entry = this.#rooms.get(roomId);
    if (entry?.loaded) return null;
    if (!entry) {
      entry = { members: new Map(), tail: Promise.resolve(), loaded: false, loading: null };
      this.#rooms.set(roomId, entry);
    }
    const held = entry;
    held.loading ??= this.#readRoom(roomId, held).finally(() => (held.loading = null));
    // Forgotten while it loaded (its last document unloaded): a peer is about to join, so it is held again.
    return held.loading.then(() => void (this.#rooms.has(roomId) || this.#rooms.set(roomId, held)));
  }

  /** Reads `userId`'s membership of the room again, when the room is held here; resolves when applied. */
  changed(roomId: string, userId: string): Promise<void> {
    const entry = this.#rooms.get(roomId);
    if (!entry) return Promise.resolve();
    return this.#queue(entry, async () => {
      const [row] = await this.#directory.members.memberships(roomId, userId);
      if (row) entry.members.set(userId, row);
      else entry.members.delete(userId);
    }).catch((error: unknown) => {
      // What is held may be stale now: the next peer to join reads the whole room again.
      entry.loaded = false;
      throw error;
    });
  }

  /** Reads every membership of the room again (a whole-room change, or a resync after missed events). */
  changedRoom(roomId: string): Promise<void> {
    const entry = this.#rooms.get(roomId);
    return entry ? this.#readRoom(roomId, entry) : Promise.resolve();
  }

  /** Drops the room's memberships (its last document unloaded); a later `ready` reads them afresh. */
  forget(roomId: string): void {
    this.#rooms.delete(roomId);
  }

  /** The user's role in the room while an active member, else null. */
  activeRole(roomId: string, userId: string): ChatMemberRole | null {
    const member = this.#rooms.get(roomId)?.members.get(userId);
    return member?.is_active ? member.role : null;
  }

  /** The room's active members, or null when its memberships are not in memory (not `ready`). */
  activeUserIds(roomId: string): string[] | null {
    const entry = this.#rooms.get(roomId);
    if (!entry?.loaded) return null;
    const ids: string[] = [];
    for (const member of entry.members.values()) if (member.is_active) ids.push(member.user_id);
    return ids;
  }

  /** When the user first became a member of the room (ms), or null. */
  memberSince(roomId: string, userId: string): number | null {
    return this.#rooms.get(roomId)?.members.get(userId)?.since ?? null;
  }

  /** How many rooms are held (tests, metrics). */
  get size(): number {
    return this.#rooms.size;
  }

  #readRoom(roomId: string, entry: Entry): Promise<void> {
    return this.#queue(entry, async () => {
      const rows = await this.#directory.members.memberships(roomId);
      entry.members.clear();
      for (const row of rows) entry.members.set(row.user_id, row);
      entry.loaded = true;
    });
  }

  /** Runs `read` after the entry's earlier reads; its outcome is returned, and later reads run whatever it was. */
  #queue(entry: Entry, read: () => Promise<void>): Promise<void> {
    const run = entry.tail.then(read);
    entry.tail = run.catch(() => {});
    return run;
  }
}
