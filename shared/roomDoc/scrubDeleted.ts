import type * as Y from 'yjs';
import { isTombstone, parseDeletionValue, parseMessageEntry, roomMaps, tombstoneOf } from './layout.ts';
import { roomIndex } from './RoomIndex.ts';

/**
 * Re-tombstones deleted messages whose value a concurrent edit brought back, so their text does
 * not outlive the deletion in the stored document. Returns how many it fixed. The server calls it
 * after applying updates; it costs O(messages to fix), not O(deletions), thanks to the room index.
 */
export function scrubDeleted(doc: Y.Doc, origin?: unknown): number {
  const { messages, deletions } = roomMaps(doc);
  const fixes = roomIndex(doc)
    .unscrubbedIds()
    .flatMap((id) => {
      const value = parseMessageEntry(id, messages.get(id));
      const deleted = parseDeletionValue(deletions.get(id)) !== null;
      return value && deleted && !isTombstone(value) ? [tombstoneOf(value)] : [];
    });
  if (fixes.length === 0) return 0;
  doc.transact(() => {
    for (const tombstone of fixes) messages.set(tombstone.id, tombstone);
  }, origin);
  return fixes.length;
}
