import { z } from 'zod';
import { RecentMessagesSchema } from '../../shared/protocol/recentPage.ts';
import { RoomIdSchema, UserIdSchema } from '../../shared/ids.ts';
import { DocNameSchema } from '../../shared/roomDoc/segments.ts';
import { ChatMemberSchema } from '../../shared/models/chatMember.ts';
import { AttachmentNameSchema, AttachmentSchema, MAX_ATTACHMENTS_PER_MESSAGE } from '../../shared/models/attachment.ts';
import { ChatMessageSchema, MessageContentSchema } from '../../shared/models/chatMessage.ts';
import { MessageIdV7Schema } from '../../shared/roomDoc/layout.ts';
import { ChatRoomSchema } from '../../shared/models/chatRoom.ts';
import { UserPresenceSchema } from '../../shared/models/userPresence.ts';
import { UserSchema } from '../../shared/models/user.ts';
import { FeedCursorSchema } from '../../shared/models/userFeed.ts';

/*
 * What the SDK keeps on the device, one zod schema per record. IndexedDB is a trust boundary
 * (another version of the app, a browser extension or a corrupt profile may have written it), so
 * every row read is parsed; a row that does not parse is skipped and reported, never trusted.
 */

const BytesSchema = z.custom<Uint8Array>((value) => value instanceof Uint8Array, 'expected bytes (Uint8Array)');
const SeqSchema = z.int().positive();

/** One entry of a room's append-only update log: a Yjs V1 update, in the order it was stored. */
export const UpdateRowSchema = z.object({ seq: SeqSchema, roomId: DocNameSchema, update: BytesSchema });
export type UpdateRow = z.infer<typeof UpdateRowSchema>;

/** A room's compacted state: every log entry up to `throughSeq` merged into one update. */
export const SnapshotRowSchema = z.object({ roomId: DocNameSchema, update: BytesSchema, throughSeq: z.int().nonnegative() });
export type SnapshotRow = z.infer<typeof SnapshotRowSchema>;

export const MessageRejectionSchema = z.object({ code: z.string().max(100), reason: z.string().max(2000) });
export type MessageRejection = z.infer<typeof MessageRejectionSchema>;

/**
 * What the server is known to hold of a room, and what it refused. `durable` is a Yjs state vector
 * (client id -> clock): the pointwise maximum of every ack and of every update the server sent.
 */
export const RoomSyncRowSchema = z.object({
  /** The document's name: a room id, or a segment's `<roomId>:<n>` (shared/roomDoc/segments.ts). */
  roomId: DocNameSchema,
  durable: BytesSchema,
  /** Message id -> why the server refused the update that carried it. */
  rejected: z.record(z.string(), MessageRejectionSchema),
  /** Set while the room's sync is stopped by a refusal (until the app discards the refused changes). */
  refusal: MessageRejectionSchema.nullable(),
});
export type RoomSyncRow = z.infer<typeof RoomSyncRowSchema>;

/** The room list entry as cached: the REST room plus what the local document says. */
export const RoomRowSchema = z.object({
  id: RoomIdSchema,
  room: ChatRoomSchema,
  unreadCount: z.int().nonnegative(),
  /** Of the unread messages, those that mention the user (rows stored before mentions read as 0). */
  mentionCount: z.int().nonnegative().default(0),
  /** Newest message held locally (null when the room is empty or not yet synced here). */
  lastMessage: ChatMessageSchema.nullable(),
  /** Order of the server's list (newest activity first). */
  order: z.int().nonnegative(),
});
export type RoomRow = z.infer<typeof RoomRowSchema>;

/** A segmented room's newest messages as last seen here, for a first paint before its segments load (client/room/RecentPage.ts). */
export const RecentPageRowSchema = z.object({ roomId: RoomIdSchema, messages: RecentMessagesSchema });
export type RecentPageRow = z.infer<typeof RecentPageRowSchema>;

export const MembersRowSchema = z.object({ roomId: RoomIdSchema, members: z.array(ChatMemberSchema) });
export type MembersRow = z.infer<typeof MembersRowSchema>;

export const PresenceRowSchema = UserPresenceSchema;
export type PresenceRow = z.infer<typeof PresenceRowSchema>;

/** A Yjs client id this device has used. A retired one is never used again. */
export const ClientIdRowSchema = z.object({
  clientId: z.int().nonnegative().max(0xffff_ffff),
  createdAt: z.int().nonnegative(),
  retiredAt: z.int().nonnegative().nullable(),
});
export type ClientIdRow = z.infer<typeof ClientIdRowSchema>;

/** The signed-in user, kept so the app can start offline. */
export const IdentityRowSchema = z.object({ key: z.literal('identity'), user: UserSchema, serverUrl: z.string() });
export type IdentityRow = z.infer<typeof IdentityRowSchema>;

/** Where the device is in its user feed (the server's cursor, stored once what came with it is stored). */
export const FeedCursorRowSchema = z.object({ key: z.literal('feed'), cursor: FeedCursorSchema });
export type FeedCursorRow = z.infer<typeof FeedCursorRowSchema>;

export const UserIdListSchema = z.array(UserIdSchema);

/** One file of an upload: what the user picked, and the server's record once it stored the bytes. */
export const UploadFileSchema = z.object({
  name: AttachmentNameSchema,
  /** The type the browser gave (the server sniffs its own from the bytes). */
  declaredType: z.string().max(255),
  size: z.int().nonnegative(),
  uploaded: AttachmentSchema.nullable(),
});
export type UploadFile = z.infer<typeof UploadFileSchema>;

/**
 * A message with attachments that the server does not hold yet (client/attachments/UploadQueue.ts):
 * its files are uploaded first, then the message is written under `messageId`, and the row and its
 * bytes stay until the server acknowledges the message. The bytes are kept apart (UploadBytesRow),
 * so that noting one file's upload does not rewrite the others.
 */
export const UploadRowSchema = z.object({
  messageId: MessageIdV7Schema,
  roomId: RoomIdSchema,
  type: z.enum(['image', 'file']),
  content: MessageContentSchema,
  parentId: MessageIdV7Schema.optional(),
  showInChannel: z.boolean().optional(),
  quotedMessageId: MessageIdV7Schema.optional(),
  mentionedUsers: z.array(UserIdSchema).max(50).optional(),
  files: z.array(UploadFileSchema).min(1).max(MAX_ATTACHMENTS_PER_MESSAGE),
  /** Why the server refused an upload (413, 403, ...): it waits for the user's Retry or Discard. */
  failure: MessageRejectionSchema.nullable(),
  /**
   * Null until the message is in its room document on this device; then it waits there for the
   * server's acknowledgement. `stale`: the server refused its references (`bad_attachment`: an
   * upload was collected while the message waited), so the files go again and the message is
   * rewritten with the new ones; `rewrites` counts how often (bounded). Rows stored before this
   * field existed were never written.
   */
  written: z.object({ stale: z.boolean(), rewrites: z.int().nonnegative().max(1000) }).nullable().default(null),
  createdAt: z.int().nonnegative(),
});
export type UploadRow = z.infer<typeof UploadRowSchema>;

/** The bytes of one file of an upload, under `<messageId>:<index>`. */
export const UploadBytesRowSchema = z.object({ key: z.string().max(64), bytes: BytesSchema });
export type UploadBytesRow = z.infer<typeof UploadBytesRowSchema>;

export const uploadBytesKey = (messageId: string, index: number): string => `${messageId}:${index}`;
