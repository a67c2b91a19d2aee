import type * as Y from 'yjs';
import { parsePinValue } from '../../shared/roomDoc/headMaps.ts';
import { isMessageId } from '../../shared/roomDoc/layout.ts';
import { pinOf } from '../../shared/roomDoc/pinReads.ts';
import { toTimestamp } from '../../shared/models/timestamps.ts';
import type { RoomEvent } from '../../shared/commands/roomEvent.ts';

/**
 * The event for one changed key of the head's `pins` map, read against the document as the
 * transaction left it: `message_pinned` for a new pin, `message_unpinned` for a removed one;
 * rewriting a pin (a second manager pinning a pinned message) and malformed values say nothing.
 */
export function pinEvent(doc: Y.Doc, roomId: string, change: { readonly key: string; readonly action: 'add' | 'update' | 'delete'; readonly oldValue: unknown }): RoomEvent | null {
  if (!isMessageId(change.key)) return null;
  const pin = pinOf(doc, change.key);
  if (change.action === 'delete') {
    if (parsePinValue(change.oldValue) === null) return null;
    return { type: 'message_unpinned', data: { room_id: roomId, message_id: change.key, pinned: false, pinned_by: null, pinned_at: null } };
  }
  if (!pin || (change.action === 'update' && parsePinValue(change.oldValue) !== null)) return null;
  return { type: 'message_pinned', data: { room_id: roomId, message_id: change.key, pinned: true, pinned_by: pin.pinnedBy, pinned_at: toTimestamp(pin.pinnedAt) } };
}
