import type * as Y from 'yjs';
import { getMessage } from '../../shared/roomDoc/queries.ts';
import { readPosition } from '../../shared/roomDoc/readOps.ts';
import { roomIndex } from '../../shared/roomDoc/RoomIndex.ts';
import { type RoomMaps, parseMessageEntry, parseReactionKey, parseReadKey } from '../../shared/roomDoc/layout.ts';
import { jsonEqual } from '../../shared/roomDoc/jsonEqual.ts';
import { toChatMessage } from '../../shared/roomDoc/toChatMessage.ts';
import { toTimestamp } from '../../shared/models/timestamps.ts';
import { uuidv7Time } from '../../shared/ids.ts';
import { SegmentIndex } from '../../shared/roomDoc/segments.ts';
import type { RoomEvent } from '../../shared/commands/roomEvent.ts';
import { pinEvent } from './pinEvents.ts';

/** One changed key of a root map, as a Y.Map observer reports it. */
export interface KeyChange {
  readonly root: keyof RoomMaps | 'pins';
  readonly key: string;
  readonly action: 'add' | 'update' | 'delete';
  readonly oldValue: unknown;
}

export interface DocEventContext {
  readonly doc: Y.Doc;
  readonly roomId: string;
  /** Each user's read position as last reported; updated here. */
  readonly reads: Map<string, string>;
  readonly nameOf: (userId: string) => string | null;
}

/**
 * The events one transaction's key changes stand for, read against the document as that
 * transaction left it: messages created and edited first, then deletions, then reactions, then
 * read positions, so that an event never names a message the client has not yet been told of.
 * Changes that mean nothing to a reader are dropped: re-tombstoning a deleted message, re-adding
 * a reaction, a read position that did not move, and values the validator would never let in.
 */
export function docEvents(ctx: DocEventContext, changes: readonly KeyChange[]): RoomEvent[] {
  const { doc, roomId, nameOf } = ctx;
  const index = roomIndex(doc);
  const message = (id: string) => {
    const view = getMessage(doc, id);
    return view ? toChatMessage(view, roomId, nameOf) : null;
  };
  const created: RoomEvent[] = [];
  const deleted: RoomEvent[] = [];
  const reactions: RoomEvent[] = [];
  const pins: RoomEvent[] = [];
  const readers = new Set<string>();
  for (const change of changes) {
    switch (change.root) {
      case 'messages': {
        if (change.action === 'delete' || index.deletion(change.key)) break;
        const value = index.message(change.key);
        if (!value) break;
        const before = change.action === 'update' ? parseMessageEntry(change.key, change.oldValue) : null;
        if (before && before.content === value.content && jsonEqual(before.meta, value.meta)) break;
        const chat = message(change.key);
        if (!chat) break;
        created.push(before ? { type: 'message_edited', data: { room_id: roomId, message: chat } } : { type: 'message_created', data: { room_id: roomId, message: chat } });
        break;
      }
      case 'deletions': {
        if (change.action !== 'add') break;
        const deletion = index.deletion(change.key);
        const chat = message(change.key);
        if (!deletion || !chat) break;
        deleted.push({
          type: 'message_deleted',
          data: { room_id: roomId, message_id: change.key, deleted_by: deletion.deletedBy, deleted_at: toTimestamp(deletion.deletedAt), message: chat },
        });
        break;
      }
      case 'reactions': {
        if (change.action === 'update') break;
        const key = parseReactionKey(change.key);
        if (!key) break;
        const data = {
          room_id: roomId,
          message_id: key.messageId,
          user_id: key.userId,
          reaction: key.reaction,
          reactions: getMessage(doc, key.messageId)?.reactions ?? {},
        };
        reactions.push(change.action === 'add' ? { type: 'reaction_added', data } : { type: 'reaction_removed', data });
        break;
      }
      case 'pins': {
        const event = pinEvent(doc, roomId, change);
        if (event) pins.push(event);
        break;
      }
      case 'reads': {
        const key = parseReadKey(change.key);
        if (key) readers.add(key.userId);
        break;
      }
    }
  }
  const moved: RoomEvent[] = [];
  // A segmented room's head holds positions but no messages: a position's time is in its id.
  const segmented = readers.size > 0 && SegmentIndex.of(doc).segmented;
  for (const userId of readers) {
    const position = readPosition(doc, userId);
    if (position === null || ctx.reads.get(userId) === position) continue;
    const at = index.message(position)?.createdAt ?? (segmented ? uuidv7Time(position) : null);
    if (at === null) continue;
    ctx.reads.set(userId, position);
    moved.push({ type: 'read_position_moved', data: { room_id: roomId, user_id: userId, last_read_id: position, last_read_at: toTimestamp(at) } });
  }
  return [...created, ...deleted, ...reactions, ...pins, ...moved];
}
