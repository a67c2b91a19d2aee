import type * as Y from 'yjs';
import { uuidv7, uuidv7Time } from '../ids.ts';
import type { JsonObject } from '../json.ts';
import type { AttachmentRef } from '../models/attachment.ts';
import type { MessageType } from '../models/chatMessage.ts';
import { type Actor, assertActor } from './actor.ts';
import { clockNow } from './clockNow.ts';
import { metaProblem } from './valueLimits.ts';
import { jsonEqual } from './jsonEqual.ts';
import {
  MAX_FUTURE_SKEW_MS,
  MessageValueSchema,
  type MessageValue,
  type RoomMaps,
  isTombstone,
  parseDeletionValue,
  parseMessageEntry,
  roomMaps,
  tombstoneOf,
} from './layout.ts';
import { mayDeleteMessage, mayEditMessage } from './permissions.ts';
import { type Result, describeIssues, failure } from './result.ts';

export interface CreateMessageInput {
  /** A lowercase UUIDv7 minted by the client (the idempotency key); generated from `now` if absent. */
  readonly id?: string;
  /** 'system' is refused: system messages come from createSystemMessage. */
  readonly type?: MessageType;
  readonly content: string;
  readonly meta?: JsonObject;
  readonly now?: number;
  /** Relations (layout.ts, MESSAGE_RELATION_FIELDS): written with the message, by its sender. */
  readonly parentId?: string;
  readonly showInChannel?: boolean;
  readonly quotedMessageId?: string;
  readonly mentionedUsers?: readonly string[];
  /** Files uploaded to this room first (image and file messages only). */
  readonly attachments?: readonly AttachmentRef[];
}

export type CreateSystemMessageInput = Omit<CreateMessageInput, 'type'>;

export interface EditMessageInput {
  readonly id: string;
  readonly content?: string;
  readonly meta?: JsonObject;
  readonly now?: number;
}

export interface DeleteMessageInput {
  readonly id: string;
  readonly now?: number;
}

export interface ReattachMessageInput {
  readonly id: string;
  /** The references of the message's files as the server recorded them when they were uploaded again. */
  readonly attachments: readonly AttachmentRef[];
}

export type CreateMessageResult = Result<'conflict' | 'invalid_payload', { readonly id: string }>;
export type ReattachMessageResult = Result<'invalid_payload' | 'not_found' | 'forbidden' | 'deleted'>;
export type EditMessageResult = Result<'invalid_payload' | 'not_found' | 'forbidden' | 'deleted'>;
export type DeleteMessageResult = Result<'not_found' | 'forbidden'>;

/** Sends a message as the actor. Re-sending an identical message under the same id is ok. */
export function createMessage(doc: Y.Doc, actor: Actor, input: CreateMessageInput, origin?: unknown): CreateMessageResult {
  assertActor(actor);
  return insertMessage(doc, input, actor.userId, input.type ?? 'text', origin);
}

/** A message with no sender, written by the server itself. */
export function createSystemMessage(doc: Y.Doc, input: CreateSystemMessageInput, origin?: unknown): CreateMessageResult {
  return insertMessage(doc, input, null, 'system', origin);
}

function insertMessage(
  doc: Y.Doc,
  input: CreateSystemMessageInput,
  senderId: string | null,
  type: MessageType,
  origin: unknown,
): CreateMessageResult {
  const now = clockNow(input.now);
  const id = input.id ?? uuidv7(now);
  // createdAt is the id's time, never the clock: uuidv7() may run ahead of `now` to stay monotonic.
  const parsed = MessageValueSchema.safeParse({
    id,
    senderId,
    type,
    content: input.content,
    meta: input.meta ?? {},
    createdAt: uuidv7Time(id) ?? Number.NaN,
    ...relationsOf(input),
  });
  if (!parsed.success) return failure('invalid_payload', describeIssues(parsed.error.issues));
  const value = parsed.data;
  const tooLarge = metaProblem(value.meta);
  if (tooLarge) return failure('invalid_payload', tooLarge);
  if (value.createdAt > now + MAX_FUTURE_SKEW_MS) {
    return failure('invalid_payload', `message id time is more than ${MAX_FUTURE_SKEW_MS} ms in the future`);
  }
  const maps = roomMaps(doc);
  if (maps.messages.has(id) || maps.deletions.has(id)) {
    const existing = parseMessageEntry(id, maps.messages.get(id));
    const retry = existing !== null && readDeletion(maps, id) === null && sameCreation(existing, value);
    return retry ? { ok: true, id } : failure('conflict', `message ${id} already exists with other content`);
  }
  // A private copy: Yjs keeps the stored object, and the caller may still mutate its `meta`.
  doc.transact(() => maps.messages.set(id, structuredClone(value)), origin);
  return { ok: true, id };
}

/** The relation keys of a new value: only those given, so an ordinary message stays as it was. */
function relationsOf(input: CreateMessageInput): Partial<MessageValue> {
  return {
    ...(input.parentId === undefined ? {} : { parentId: input.parentId }),
    ...(input.showInChannel === true ? { showInChannel: true as const } : {}),
    ...(input.quotedMessageId === undefined ? {} : { quotedMessageId: input.quotedMessageId }),
    ...(input.mentionedUsers === undefined || input.mentionedUsers.length === 0 ? {} : { mentionedUsers: [...input.mentionedUsers] }),
    ...(input.attachments === undefined || input.attachments.length === 0 ? {} : { attachments: input.attachments.map((a) => ({ ...a })) }),
  };
}

const sameCreation = (a: MessageValue, b: MessageValue): boolean =>
  a.senderId === b.senderId &&
  a.type === b.type &&
  a.content === b.content &&
  jsonEqual(a.meta, b.meta) &&
  a.parentId === b.parentId &&
  a.showInChannel === b.showInChannel &&
  a.quotedMessageId === b.quotedMessageId &&
  jsonEqual(a.mentionedUsers ?? [], b.mentionedUsers ?? []) &&
  jsonEqual(a.attachments ?? [], b.attachments ?? []);

const readDeletion = (maps: RoomMaps, id: string) => parseDeletionValue(maps.deletions.get(id));

/** Replaces the whole value with new content and/or meta; only the sender may. */
export function editMessage(doc: Y.Doc, actor: Actor, input: EditMessageInput, origin?: unknown): EditMessageResult {
  assertActor(actor);
  const now = clockNow(input.now);
  const maps = roomMaps(doc);
  const existing = parseMessageEntry(input.id, maps.messages.get(input.id));
  if (!existing) return failure('not_found', `no message ${input.id}`);
  if (!mayEditMessage(actor, existing)) return failure('forbidden', 'only the sender may edit a message');
  if (readDeletion(maps, input.id)) return failure('deleted', `message ${input.id} is deleted`);
  if (input.content === undefined && input.meta === undefined) return failure('invalid_payload', 'nothing to edit');
  const content = input.content ?? existing.content;
  const meta = input.meta ?? existing.meta;
  // A retried edit must not bump editedAt.
  if (content === existing.content && jsonEqual(meta, existing.meta)) return { ok: true };
  return replaceValue(doc, maps, input.id, {
    ...existing,
    content,
    meta,
    // Clocks of the sender's devices differ; never let editedAt go back or before createdAt.
    editedAt: Math.max(now, existing.createdAt, existing.editedAt ?? 0),
  }, origin);
}

/**
 * Gives a message of the actor's the references of its files uploaded again, everything else kept.
 * Only for a message the server never accepted: it refused it (`bad_attachment`) because an upload
 * it named was gone, and the sender's device uploaded the files again (client/attachments/UploadQueue.ts).
 * The server judges the rewritten value as the new message it still is to it; a message it holds
 * keeps its attachments (it refuses changing them), so callers check it is not `sent` first.
 * Giving the references it already has writes nothing.
 */
export function reattachMessage(doc: Y.Doc, actor: Actor, input: ReattachMessageInput, origin?: unknown): ReattachMessageResult {
  assertActor(actor);
  const maps = roomMaps(doc);
  const existing = parseMessageEntry(input.id, maps.messages.get(input.id));
  if (!existing) return failure('not_found', `no message ${input.id}`);
  if (!mayEditMessage(actor, existing)) return failure('forbidden', 'only the sender may give a message its files again');
  if (readDeletion(maps, input.id) || isTombstone(existing)) return failure('deleted', `message ${input.id} is deleted`);
  if (existing.attachments === undefined) return failure('invalid_payload', `message ${input.id} carries no attachments`);
  const attachments = input.attachments.map((a) => ({ ...a }));
  if (jsonEqual(existing.attachments, attachments)) return { ok: true };
  return replaceValue(doc, maps, input.id, { ...existing, attachments }, origin);
}

/** Writes a changed message value in place, once it parses (and its metadata is within bounds). */
function replaceValue(doc: Y.Doc, maps: RoomMaps, id: string, candidate: MessageValue, origin: unknown): Result<'invalid_payload'> {
  const parsed = MessageValueSchema.safeParse(candidate);
  if (!parsed.success) return failure('invalid_payload', describeIssues(parsed.error.issues));
  const tooLarge = metaProblem(parsed.data.meta);
  if (tooLarge) return failure('invalid_payload', tooLarge);
  const next = structuredClone(parsed.data);
  doc.transact(() => maps.messages.set(id, next), origin);
  return { ok: true };
}

/**
 * Marks the message deleted under its own key (so it wins over a concurrent edit) and replaces
 * the value with a tombstone (so Yjs GC drops the text). Deleting twice is ok.
 */
export function deleteMessage(doc: Y.Doc, actor: Actor, input: DeleteMessageInput, origin?: unknown): DeleteMessageResult {
  assertActor(actor);
  const now = clockNow(input.now);
  const maps = roomMaps(doc);
  const existing = parseMessageEntry(input.id, maps.messages.get(input.id));
  if (!existing) return failure('not_found', `no message ${input.id}`);
  if (!mayDeleteMessage(actor, existing)) return failure('forbidden', 'only the sender, an owner or an admin may delete a message');
  const deleted = readDeletion(maps, input.id) !== null;
  const scrubbed = isTombstone(existing);
  if (deleted && scrubbed) return { ok: true };
  doc.transact(() => {
    if (!deleted) maps.deletions.set(input.id, { deletedAt: Math.max(now, existing.createdAt), deletedBy: actor.userId });
    if (!scrubbed) maps.messages.set(input.id, tombstoneOf(existing));
  }, origin);
  return { ok: true };
}
