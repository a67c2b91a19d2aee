import * as Y from 'yjs';
import { openPostgres } from '../../server/storage/pg/openPostgres.ts';
import { PgUpdateStore } from '../../server/storage/pg/PgUpdateStore.ts';
import { type SeedOptions, mintIds, segmentedRoomDocs } from './seededRooms.ts';

/**
 * Gives a room of a stopped test server on PostgreSQL (`databaseUrl`) a history of `count`
 * messages by `authorId` in segments, as seedSegmentedRoom does on SQLite: the segments and the
 * head in the update log, each segment's client id bound to its author. Mentions and the search
 * index are left to the server (it records a segment's mentions when it loads it). Returns the
 * ids, oldest first.
 */
export async function seedSegmentedRoomOnPostgres(
  databaseUrl: string,
  roomId: string,
  authorId: string,
  count: number,
  options: Pick<SeedOptions, 'content' | 'perSegment'> = {},
): Promise<string[]> {
  const ids = mintIds(count);
  const pool = await openPostgres(databaseUrl);
  try {
    const store = new PgUpdateStore(pool);
    for (const { name, doc, segment } of segmentedRoomDocs(roomId, authorId, ids, options)) {
      const update = Y.encodeStateAsUpdate(doc);
      const bindings = segment === null ? [] : [{ roomId: name, clientId: doc.clientID, userId: authorId }];
      doc.destroy();
      await store.append([{ roomId: name, update }], bindings);
    }
  } finally {
    await pool.end();
  }
  return ids;
}
