import type * as Y from 'yjs';
import { z } from 'zod';
import { UserIdSchema, uuidv7Time } from '../ids.ts';
import { FORBIDDEN_KEYS, JsonObjectSchema, jsonProblem } from '../json.ts';
import { AttachmentRefsSchema } from '../models/attachment.ts';
import { MessageContentSchema, MessageTypeSchema, ReactionSchema } from '../models/chatMessage.ts';

/*
 * The room document layout (docs/protocol.md, "Room document layout"). Third-party y-websocket
 * clients and the server's update validator depend on these names, shapes and keys.
 */

/** The only root types of a room document; all of them are `Y.Map`s. */
export const ROOT = {
  messages: 'messages',
  deletions: 'deletions',
  reactions: 'reactions',
  reads: 'reads',
} as const;

/** A document from the network is untrusted, so every value is `unknown` until parsed. */
export interface RoomMaps {
  readonly messages: Y.Map<unknown>;
  readonly deletions: Y.Map<unknown>;
  readonly reactions: Y.Map<unknown>;
  readonly reads: Y.Map<unknown>;
}

export function roomMaps(doc: Y.Doc): RoomMaps {
  return {
    messages: doc.getMap<unknown>(ROOT.messages),
    deletions: doc.getMap<unknown>(ROOT.deletions),
    reactions: doc.getMap<unknown>(ROOT.reactions),
    reads: doc.getMap<unknown>(ROOT.reads),
  };
}

/** Separator inside reaction and read keys; user ids, message ids and reactions never contain it. */
export const KEY_SEPARATOR = '|';

/** How far ahead of the checking clock a message's createdAt (its id's time) may be. */
export const MAX_FUTURE_SKEW_MS = 5 * 60_000;
/** How far before its sender joined the room a message's createdAt may be (clock skew between devices and server). */
export const MAX_PAST_SKEW_MS = 5 * 60_000;

const MESSAGE_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/**
 * Lowercase only: display order is the plain string order of ids, and an uppercase twin of an id
 * would sort elsewhere and dodge the idempotency check.
 */
export const isMessageId = (value: string): boolean => MESSAGE_ID.test(value);

export const MessageIdV7Schema = z.string().regex(MESSAGE_ID, 'message id must be a lowercase UUIDv7');

/** Milliseconds since the epoch, as stored in the document. */
export const MillisSchema = z.int().nonnegative();

/**
 * Message metadata as stored. JsonObjectSchema alone is not enough here: zod's record drops an own
 * `__proto__` key before that schema's check runs, so such a value would pass and keep the key in
 * the document. Checking the raw value first refuses it.
 */
export const MetaSchema = z
  .unknown()
  .superRefine((value, ctx) => {
    const problem = typeof value !== 'object' || value === null || Array.isArray(value) ? 'not an object' : jsonProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: `invalid meta: ${problem}` });
  })
  .pipe(JsonObjectSchema);

/** The fields a message's value and its views (recent pages) share. */
export const MESSAGE_FIELDS = {
  id: MessageIdV7Schema,
  senderId: UserIdSchema.nullable(),
  type: MessageTypeSchema,
  content: MessageContentSchema,
  meta: MetaSchema,
  createdAt: MillisSchema,
};

/** Most users one message may mention. */
export const MAX_MENTIONS = 50;

/**
 * A message's relations (docs/protocol.md, "Conversations"): written by its sender as part of the
 * value, so "only the author writes their message's relations" is the edit rule itself. Absent
 * keys are the common case (an ordinary message), so values of older rooms parse unchanged.
 */
export const MESSAGE_RELATION_FIELDS = {
  /** The thread root this message replies to (one level: a root is never itself a reply). */
  parentId: MessageIdV7Schema.optional(),
  /** A reply also shown in the room's main timeline. */
  showInChannel: z.literal(true).optional(),
  /** The message this one quotes. */
  quotedMessageId: MessageIdV7Schema.optional(),
  /** Users mentioned, each once, in the order written; members of the room (the validator checks). */
  mentionedUsers: z
    .array(UserIdSchema)
    .min(1)
    .max(MAX_MENTIONS)
    .refine((ids) => new Set(ids).size === ids.length, 'mentioned users must be distinct')
    .optional(),
  /**
   * Files uploaded to this room by the sender (models/attachment.ts), on `image` and `file`
   * messages only; the validator checks each against the server's upload record. An edit keeps
   * them; a deletion drops them with the text.
   */
  attachments: AttachmentRefsSchema.optional(),
};

export const MessageValueSchema = z
  .strictObject({ ...MESSAGE_FIELDS, ...MESSAGE_RELATION_FIELDS, editedAt: MillisSchema.optional() })
  // Binding createdAt to the id makes display order (createdAt, id) equal to id order.
  .refine((v) => uuidv7Time(v.id) === v.createdAt, { message: 'createdAt must equal the time in the id', path: ['createdAt'] })
  .refine((v) => (v.type === 'system') === (v.senderId === null), {
    message: 'system messages, and only they, have no sender',
    path: ['senderId'],
  })
  .refine((v) => v.parentId !== v.id && v.quotedMessageId !== v.id, { message: 'a message neither replies to nor quotes itself', path: ['parentId'] })
  .refine((v) => v.showInChannel === undefined || v.parentId !== undefined, { message: 'showInChannel is for replies only', path: ['showInChannel'] })
  .refine((v) => v.type !== 'system' || (v.parentId === undefined && v.quotedMessageId === undefined && v.mentionedUsers === undefined), {
    message: 'system messages have no relations',
    path: ['type'],
  })
  .refine((v) => v.attachments === undefined || v.type === 'image' || v.type === 'file', {
    message: 'only image and file messages carry attachments',
    path: ['attachments'],
  });
export type MessageValue = z.infer<typeof MessageValueSchema>;

export const DeletionValueSchema = z.strictObject({
  deletedAt: MillisSchema,
  deletedBy: UserIdSchema,
});
export type DeletionValue = z.infer<typeof DeletionValueSchema>;

/** A reaction's value is the time it was added. */
export const ReactionValueSchema = MillisSchema;

/** A read position's value is the id of the newest message read on that device. */
export const ReadValueSchema = MessageIdV7Schema;

/** A message value, or null when the entry is malformed or stored under a key other than its id. */
export function parseMessageEntry(key: string, raw: unknown): MessageValue | null {
  const parsed = MessageValueSchema.safeParse(raw);
  return parsed.success && parsed.data.id === key ? parsed.data : null;
}

export function parseDeletionValue(raw: unknown): DeletionValue | null {
  const parsed = DeletionValueSchema.safeParse(raw);
  return parsed.success ? parsed.data : null;
}

export function parseReactionValue(raw: unknown): number | null {
  const parsed = ReactionValueSchema.safeParse(raw);
  return parsed.success ? parsed.data : null;
}

export function parseReadValue(raw: unknown): string | null {
  const parsed = ReadValueSchema.safeParse(raw);
  return parsed.success ? parsed.data : null;
}

/**
 * A deleted message's value: the text, metadata, quote and mentions are gone, so Yjs GC drops them
 * for good. Its place stays (a deleted reply stays in its thread, under the root it answered).
 */
export function tombstoneOf(value: MessageValue): MessageValue {
  const { id, senderId, type, createdAt, editedAt, parentId, showInChannel } = value;
  return {
    id,
    senderId,
    type,
    content: '',
    meta: {},
    createdAt,
    ...(parentId === undefined ? {} : { parentId }),
    ...(showInChannel === undefined ? {} : { showInChannel }),
    ...(editedAt === undefined ? {} : { editedAt }),
  };
}

export const isTombstone = (value: MessageValue): boolean =>
  value.content === '' && Object.keys(value.meta).length === 0 && value.quotedMessageId === undefined && value.mentionedUsers === undefined && value.attachments === undefined;

/**
 * What no edit may change: who sent it, when, what type, and where it sits (its thread). The quote
 * and the mentions are part of the text and change with it.
 */
export const sameMessageIdentity = (a: MessageValue, b: MessageValue): boolean =>
  a.id === b.id &&
  a.senderId === b.senderId &&
  a.type === b.type &&
  a.createdAt === b.createdAt &&
  a.parentId === b.parentId &&
  a.showInChannel === b.showInChannel;

/** Whether a message belongs in the room's main timeline: not a reply, or a reply also shown there. */
export const inMainTimeline = (value: Pick<MessageValue, 'parentId' | 'showInChannel'>): boolean =>
  value.parentId === undefined || value.showInChannel === true;

export interface ReactionKey {
  readonly messageId: string;
  readonly userId: string;
  readonly reaction: string;
}

/**
 * `__proto__` and friends are refused on top of ReactionSchema: reactions become object keys in
 * the API's `reactions` record, where such a key is dropped or reaches the prototype.
 */
export const isStorableReaction = (reaction: string): boolean =>
  ReactionSchema.safeParse(reaction).success && !FORBIDDEN_KEYS.has(reaction);

export const reactionKey = ({ messageId, userId, reaction }: ReactionKey): string =>
  [messageId, userId, reaction].join(KEY_SEPARATOR);

export function parseReactionKey(key: string): ReactionKey | null {
  const parts = key.split(KEY_SEPARATOR);
  if (parts.length !== 3) return null;
  const [messageId = '', userId = '', reaction = ''] = parts;
  if (!isMessageId(messageId) || !UserIdSchema.safeParse(userId).success || !isStorableReaction(reaction)) return null;
  return { messageId, userId, reaction };
}

export interface ReadKey {
  readonly userId: string;
  /** The Yjs client id of the device that owns the key. */
  readonly clientId: number;
}

export const readKey = ({ userId, clientId }: ReadKey): string => [userId, String(clientId)].join(KEY_SEPARATOR);

export function parseReadKey(key: string): ReadKey | null {
  const parts = key.split(KEY_SEPARATOR);
  if (parts.length !== 2) return null;
  const [userId = '', client = ''] = parts;
  if (!UserIdSchema.safeParse(userId).success || !/^(0|[1-9][0-9]{0,15})$/.test(client)) return null;
  const clientId = Number(client);
  return Number.isSafeInteger(clientId) ? { userId, clientId } : null;
}
