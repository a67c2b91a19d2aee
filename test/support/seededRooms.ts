import * as Y from 'yjs';
import { openDatabase } from '../../server/storage/openDatabase.ts';
import { SqliteUpdateStore } from '../../server/storage/SqliteUpdateStore.ts';
import { uuidv7 } from '../../shared/ids.ts';
import { roomMaps } from '../../shared/roomDoc/layout.ts';
import type { TestServer } from './serverHarness.ts';

/**
 * Gives a room of a stopped test server a history of `count` messages by `authorId`, the way an
 * older Parley stored a room: one document (no segments), one logged update whose client id is
 * bound to its author, as the sync path commits it. Returns the ids, oldest first. Values are
 * written straight into the maps (what createMessage writes, without its per-message checks: a
 * few hundred thousand in a second or two).
 */
export function seedSingleDocumentRoom(t: TestServer, roomId: string, authorId: string, count: number): string[] {
  const doc = new Y.Doc();
  const { messages } = roomMaps(doc);
  const ids: string[] = [];
  const start = Date.now();
  doc.transact(() => {
    for (let i = 0; i < count; i++) {
      const id = uuidv7(start);
      ids.push(id);
      messages.set(id, { id, senderId: authorId, type: 'text', content: `history ${i}`, meta: {}, createdAt: Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16) });
    }
  });
  const db = openDatabase(t.config.dbFile);
  try {
    new SqliteUpdateStore(db).append([{ roomId, update: Y.encodeStateAsUpdate(doc) }], [{ roomId, clientId: doc.clientID, userId: authorId }]);
  } finally {
    db.close();
  }
  doc.destroy();
  return ids;
}
