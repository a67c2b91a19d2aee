import type { RoomIndex } from '../../shared/roomDoc/RoomIndex.ts';
import { isTombstone } from '../../shared/roomDoc/layout.ts';
import type { SearchEntry } from './SearchRepo.ts';

/**
 * What the index holds for a message of a document, or null when it holds nothing: the message
 * is not there, is deleted (a deletion record or a tombstone), has no text, or is a system
 * message (server-written notices such as "Ana joined": not what people search for, and not
 * written by any member; docs/search.md).
 */
export function searchEntryOf(index: RoomIndex, roomId: string, messageId: string): SearchEntry | null {
  const value = index.message(messageId);
  if (!value || value.type === 'system' || index.deletion(messageId) || isTombstone(value) || value.content.trim() === '') return null;
  return { roomId, messageId, senderId: value.senderId, createdAt: value.createdAt, content: value.content };
}
