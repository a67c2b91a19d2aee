import { scrubDeleted } from '../../../shared/roomDoc/scrubDeleted.ts';
import { SERVER_ORIGIN } from '../origins.ts';
import type { CommittedBatch } from './CommittedBatch.ts';

/**
 * Clears again the text of a deleted message that a concurrent edit brought back (a deletion
 * lives under its own key, so it always wins, but the edit's value still held the text). A
 * server transaction: it takes the next group commit and is relayed like any update.
 */
export function scrubDeletedMessages({ room, updates }: CommittedBatch): void {
  if (updates.length > 0 && !room.closed) scrubDeleted(room.doc, SERVER_ORIGIN);
}
