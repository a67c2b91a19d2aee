import type { Growth, Room } from '../sync/Room.ts';
import { createMessage, deleteMessage, editMessage } from '../../shared/roomDoc/messageOps.ts';
import { addReaction, removeReaction } from '../../shared/roomDoc/reactionOps.ts';
import { checkRelations, findView, roomSources } from '../threads/threadHistory.ts';
import { getMessage } from '../../shared/roomDoc/queries.ts';
import { withPin } from '../../shared/roomDoc/pinReads.ts';
import { toChatMessage } from '../../shared/roomDoc/toChatMessage.ts';
import type { RoomDocErrorCode } from '../../shared/roomDoc/result.ts';
import type { CommandPayload } from '../../shared/commands/webSocketCommand.ts';
import type { ErrorCode } from '../../shared/errors/errorCodes.ts';
import { type CommandFailure, commandFailure } from './CommandFailure.ts';
import { refOf } from '../storage/AttachmentRepo.ts';
import type { AttachmentRef } from '../../shared/models/attachment.ts';
import type { DirectoryApi } from '../storage/DirectoryApi.ts';
import type { CommandConnection } from './CommandConnection.ts';
import type { CommandDeps, Outcome } from './CommandDeps.ts';
import { type RoomStep, inRoom } from './inRoom.ts';
import type { DocAccess } from '../segments/loadedDocs.ts';

const ERROR_OF: Record<RoomDocErrorCode, ErrorCode> = {
  invalid_payload: 'invalid_payload',
  conflict: 'conflict',
  not_found: 'not_found',
  forbidden: 'forbidden',
  deleted: 'message_deleted',
};

/** The stored message as the API's ChatMessage, once the change is committed. */
const answerWith = (deps: CommandDeps, room: Room, roomId: string, id: string) => (docs: DocAccess): Outcome => {
  // Where it was written (a late write is re-homed only after this commit); the thread summary and
  // the quote through the head, as they may live in other documents.
  const head = docs(roomId);
  const view = getMessage(room.doc, id, roomSources(docs, head, roomId)) ?? findView(docs, head, roomId, id);
  if (!view) return commandFailure('not_found', `no message ${id}`);
  // A segment holds no pins: the head has them.
  return { ok: true, data: { message: toChatMessage(withPin(view, head.doc), roomId, deps.nameOf) } };
};

/** The same caps a sync update meets: the room's stored size and the member's growth share. */
function roomFor(room: Room, userId: string, payload: object, growth: Growth = 'other'): RoomStep | null {
  const unfit = room.admit(userId, Buffer.byteLength(JSON.stringify(payload)), growth);
  return unfit ? commandFailure(unfit.code, unfit.reason) : null;
}

export function sendMessage(deps: CommandDeps, conn: CommandConnection, p: CommandPayload<'send_message'>): Promise<Outcome> {
  return inRoom(deps, conn, p.room_id, async (room, actor, docs) => {
    // mayCreateMessage (shared/roomDoc/permissions.ts): system messages come from the server alone.
    if (p.message_type === 'system') return commandFailure('forbidden', 'system messages come from the server alone');
    // The validator's rule for Yjs clients: only active members may be mentioned.
    const outsider = await firstOutsider(deps.directory, p.room_id, p.mentioned_users ?? []);
    if (outsider !== undefined) return commandFailure('invalid_payload', `${outsider} is not a member of this room and cannot be mentioned`);
    const attachments = await attachmentRefs(deps.directory, p.room_id, actor.userId, p.message_type, p.attachments);
    if (!attachments.ok) return attachments;
    // From here on, synchronously: the relations and caps as the room is now, and the write. The
    // relations first: a message they reach in a segment not loaded reruns this op, before the
    // caps count its size.
    if (room.closed) return commandFailure('internal', 'the room was dropped from memory after a storage fault; try again');
    const related = checkRelations(docs, docs(p.room_id), p.room_id, { parentId: p.parent_id, quotedId: p.quoted_message_id });
    if (!related.ok) return commandFailure(related.code, related.message);
    const full = roomFor(room, actor.userId, p, 'messages');
    if (full) return full;
    const relations = {
      ...(p.parent_id === undefined ? {} : { parentId: p.parent_id }),
      ...(p.show_in_channel === undefined ? {} : { showInChannel: p.show_in_channel }),
      ...(p.quoted_message_id === undefined ? {} : { quotedMessageId: p.quoted_message_id }),
      ...(p.mentioned_users === undefined ? {} : { mentionedUsers: p.mentioned_users }),
      ...(attachments.refs.length === 0 ? {} : { attachments: attachments.refs }),
    };
    const result = createMessage(room.doc, actor, { id: p.message_id, type: p.message_type, content: p.content, meta: p.extra_metadata, ...relations }, conn.origin);
    if (!result.ok) return commandFailure(ERROR_OF[result.code], result.message);
    return { ok: true, answer: answerWith(deps, room, p.room_id, result.id) };
  }, { messageId: null });
}

/** The first of `userIds` who is not an active member of the room, if any (read one after another, in order). */
async function firstOutsider(directory: DirectoryApi, roomId: string, userIds: readonly string[]): Promise<string | undefined> {
  for (const userId of userIds) {
    const member = await directory.members.get(roomId, userId);
    if (!member?.is_active) return userId;
  }
  return undefined;
}

/**
 * The references a new message stores for the attachments it names by id (the validator's rule
 * for Yjs clients, docs/attachments.md): each an upload to this room by the sender, on an image
 * or file message; the server fills in what it recorded.
 */
async function attachmentRefs(
  directory: DirectoryApi,
  roomId: string,
  userId: string,
  type: string,
  inputs: readonly { id: string }[] | undefined,
): Promise<{ ok: true; refs: AttachmentRef[] } | CommandFailure> {
  if (inputs === undefined || inputs.length === 0) return { ok: true, refs: [] };
  if (type !== 'image' && type !== 'file') return commandFailure('invalid_payload', `message_type must be image or file for a message with attachments, not ${type}`);
  const refs: AttachmentRef[] = [];
  for (const { id } of inputs) {
    const record = await directory.attachments.get(id);
    if (!record || record.roomId !== roomId) return commandFailure('invalid_payload', `attachment ${id} is not an upload to this room (POST /api/rooms/${roomId}/attachments first)`);
    if (record.uploaderId !== userId) return commandFailure('invalid_payload', `attachment ${id} was uploaded by someone else: attach only your own uploads`);
    refs.push(refOf(record));
  }
  return { ok: true, refs };
}

export function editMessageCommand(deps: CommandDeps, conn: CommandConnection, p: CommandPayload<'edit_message'>): Promise<Outcome> {
  return inRoom(deps, conn, p.room_id, (room, actor) => {
    const full = roomFor(room, actor.userId, p);
    if (full) return full;
    const result = editMessage(room.doc, actor, { id: p.message_id, content: p.content }, conn.origin);
    if (!result.ok) return commandFailure(ERROR_OF[result.code], result.message);
    return { ok: true, answer: answerWith(deps, room, p.room_id, p.message_id) };
  }, { messageId: p.message_id });
}

export function deleteMessageCommand(deps: CommandDeps, conn: CommandConnection, p: CommandPayload<'delete_message'>): Promise<Outcome> {
  return inRoom(deps, conn, p.room_id, (room, actor) => {
    const result = deleteMessage(room.doc, actor, { id: p.message_id }, conn.origin);
    if (!result.ok) return commandFailure(ERROR_OF[result.code], result.message);
    return { ok: true, answer: answerWith(deps, room, p.room_id, p.message_id) };
  }, { messageId: p.message_id });
}

export function reactionCommand(
  deps: CommandDeps,
  conn: CommandConnection,
  p: CommandPayload<'add_reaction'>,
  add: boolean,
): Promise<Outcome> {
  return inRoom(deps, conn, p.room_id, (room, actor) => {
    const full = add ? roomFor(room, actor.userId, p) : null;
    if (full) return full;
    const input = { messageId: p.message_id, reaction: p.reaction };
    const result = add ? addReaction(room.doc, actor, input, conn.origin) : removeReaction(room.doc, actor, input, conn.origin);
    if (!result.ok) return commandFailure(ERROR_OF[result.code], result.message);
    return { ok: true, answer: answerWith(deps, room, p.room_id, p.message_id) };
  }, { messageId: p.message_id });
}
