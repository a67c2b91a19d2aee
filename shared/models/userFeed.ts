import { z } from 'zod';
import { RoomIdSchema } from '../ids.ts';
import { ChatMemberSchema } from './chatMember.ts';
import { ChatRoomSchema } from './chatRoom.ts';
import { UserPresenceSchema } from './userPresence.ts';
import { ParleyNotificationSchema } from './notification.ts';

/*
 * The user feed (docs/protocol.md, "User feed"): what a user's devices need outside room
 * documents, on the channel named FEED_DOCUMENT of the multiplexed sync socket. Its frames are
 * JSON text (UTF-8), parsed by these schemas on both sides.
 */

/** The document name of the feed channel (room ids are UUIDs, so it names no room). */
export const FEED_DOCUMENT = 'feed';

/** Where a device is in its feed: opaque to clients (the server's per-user sequence number and a time). */
export const FeedCursorSchema = z.string().min(1).max(100);

/** Client → server, once after opening the channel: what it holds (null: nothing yet). */
export const FeedResumeSchema = z.object({ type: z.literal('resume'), cursor: FeedCursorSchema.nullable() }).strict();
export type FeedResume = z.infer<typeof FeedResumeSchema>;

/** A room the user no longer belongs to (removed by someone, or left on another device). */
export const FeedRemovalSchema = z.object({ room_id: RoomIdSchema, reason: z.enum(['removed', 'not_found']) });
export type FeedRemoval = z.infer<typeof FeedRemovalSchema>;

/**
 * Server → client: the rooms that changed (as GET /api/rooms shows them: name, activity,
 * member_count, last_message), the rooms the user lost, the member lists that changed (with
 * each member's name), and the presence of people the user shares a room with. With `reset`, `rooms` is the whole list and any other room is gone. The
 * client stores `cursor` once it stored the rest, and resumes from it.
 */
export const FeedChangesSchema = z.object({
  type: z.literal('changes'),
  cursor: FeedCursorSchema,
  reset: z.boolean(),
  rooms: z.array(ChatRoomSchema),
  removed: z.array(FeedRemovalSchema),
  /**
   * Member lists: the whole active list (`complete`), or only the members whose membership
   * changed, to merge into the list the device holds (an inactive one leaves it).
   */
  members: z.array(z.object({ room_id: RoomIdSchema, members: z.array(ChatMemberSchema), complete: z.boolean() })),
  /** People the user shares a room with whose presence changed (online, last seen, status). */
  presence: z.array(UserPresenceSchema),
  /**
   * New mentions of the user and new messages in their direct rooms, pushed live to connected
   * devices only (never logged, never caught up: a device that was away had them sent to the
   * webhook instead). Absent on most frames; an older server never sends it.
   */
  notifications: z.array(ParleyNotificationSchema).optional(),
});
export type FeedChanges = z.infer<typeof FeedChangesSchema>;

/**
 * The server speaks on an open feed channel at least this often: a feed that sent nothing for
 * this long sends a keepalive, so a device whose only channel is its feed (the room list, no room
 * open) still notices a dead socket by silence, as room channels do (their awareness renewals).
 */
export const FEED_KEEPALIVE_MS = 15_000;

/**
 * A keepalive: a changes frame that changes nothing, with the cursor the channel sent last. An
 * older client applies it as what it is (nothing, and a cursor it stored already); a newer one
 * skips it (isKeepalive).
 */
export function feedKeepalive(cursor: string): FeedChanges {
  return { type: 'changes', cursor, reset: false, rooms: [], removed: [], members: [], presence: [] };
}

/** Whether `changes` changes nothing and repeats `lastCursor`, the cursor of the frame before it: a keepalive. */
export function isKeepalive(changes: FeedChanges, lastCursor: string | null): boolean {
  return (
    changes.cursor === lastCursor &&
    !changes.reset &&
    changes.rooms.length === 0 &&
    changes.removed.length === 0 &&
    changes.members.length === 0 &&
    changes.presence.length === 0 &&
    (changes.notifications ?? []).length === 0
  );
}
