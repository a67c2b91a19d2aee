import type { Room } from '../sync/Room.ts';
import { findMessage, loadSegment } from '../segments/roomHistory.ts';
import { pinMessage, pinnedMessages, unpinMessage } from '../../shared/roomDoc/pinOps.ts';
import { withPin } from '../../shared/roomDoc/pinReads.ts';
import { SegmentIndex } from '../../shared/roomDoc/segments.ts';
import { toChatMessage } from '../../shared/roomDoc/toChatMessage.ts';
import type { CommandPayload } from '../../shared/commands/webSocketCommand.ts';
import { commandFailure } from './CommandFailure.ts';
import type { CommandConnection } from './CommandConnection.ts';
import type { CommandDeps, Outcome } from './CommandDeps.ts';
import { inRoom } from './inRoom.ts';
import type { DocAccess } from '../segments/loadedDocs.ts';

/*
 * pin_message, unpin_message, fetch_pinned (docs/commands.md). A pin is written to the room's head
 * (the room document while it is not segmented); the message it names is checked where it is:
 * the head, or the segment that holds it, loaded for the command like fetch_history's pages.
 */

/** The document holding the message: the head, or its home segment in a segmented room. */
function holderOf(docs: DocAccess, head: Room, roomId: string, messageId: string): Room {
  const index = SegmentIndex.of(head.doc);
  if (!index.open) return head;
  return loadSegment(docs, roomId, index.homeOf(messageId) ?? index.open.n);
}

/** The message as the API answers it, with its pin as the head holds it now. */
const answerWith = (deps: CommandDeps, head: Room, roomId: string, messageId: string) => (docs: DocAccess): Outcome => {
  const view = findMessage(docs, head, roomId, messageId);
  if (!view) return commandFailure('not_found', `no message ${messageId}`);
  return { ok: true, data: { message: toChatMessage(withPin(view, head.doc), roomId, deps.nameOf) } };
};

export function pinMessageCommand(deps: CommandDeps, conn: CommandConnection, p: CommandPayload<'pin_message'>): Promise<Outcome> {
  return inRoom(deps, conn, p.room_id, (head, actor, docs) => {
    const result = pinMessage(head.doc, actor, { messageId: p.message_id, holder: holderOf(docs, head, p.room_id, p.message_id).doc }, conn.origin);
    if (!result.ok) return commandFailure(result.code === 'deleted' ? 'message_deleted' : result.code, result.message);
    return { ok: true, answer: answerWith(deps, head, p.room_id, p.message_id) };
  });
}

export function unpinMessageCommand(deps: CommandDeps, conn: CommandConnection, p: CommandPayload<'unpin_message'>): Promise<Outcome> {
  return inRoom(deps, conn, p.room_id, (head, actor, docs) => {
    // Checked before writing, so that an unknown message is an error that changed nothing.
    if (!findMessage(docs, head, p.room_id, p.message_id)) return commandFailure('not_found', `no message ${p.message_id}`);
    const result = unpinMessage(head.doc, actor, p.message_id, conn.origin);
    if (!result.ok) return commandFailure(result.code, result.message);
    return { ok: true, answer: answerWith(deps, head, p.room_id, p.message_id) };
  });
}

export function fetchPinned(deps: CommandDeps, conn: CommandConnection, p: CommandPayload<'fetch_pinned'>): Promise<Outcome> {
  return inRoom(deps, conn, p.room_id, (head) => ({
    ok: true,
    answer: (docs) => {
      const views = pinnedMessages(head.doc, (id) => findMessage(docs, head, p.room_id, id));
      return { ok: true, data: { room_id: p.room_id, messages: views.map((view) => toChatMessage(view, p.room_id, deps.nameOf)) } };
    },
  }));
}
