import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { MessageSearchResultsSchema } from '../../shared/models/messageSearch.ts';
import { SEGMENT_MAX_MESSAGES, parseDocName } from '../../shared/roomDoc/segments.ts';
import { CommandClient } from '../../test/support/commandClient.ts';
import { seedSingleDocumentRoom } from '../../test/support/seededRooms.ts';
import { startWithRoom, type TwoMemberRoom } from '../../test/support/serverHarness.ts';
import type { Db } from '../storage/openDatabase.ts';
import { openSearchDatabase, searchDbFileOf } from './openSearchDatabase.ts';

/*
 * A room stored as one document from before search and before segments: loading it indexes it
 * whole while the Segmenter converts it, moving every message into segment documents. Each message
 * ends up indexed exactly once, from the segment that holds it.
 */
let r: TwoMemberRoom | null = null;
let index: Db | null = null;
afterEach(async () => {
  index?.close();
  index = null;
  await r?.t.dispose();
  r = null;
});

const RowsSchema = z.array(z.object({ message_id: z.string(), doc_name: z.string() }));

describe('search in a room converted into segments', () => {
  it('indexes every message once, from the segment it moved to', { timeout: 120_000 }, async () => {
    r = await startWithRoom();
    const { t, ana, ben, roomId } = r;
    await t.stop();
    const count = 2 * SEGMENT_MAX_MESSAGES + 500;
    const ids = seedSingleDocumentRoom(t, roomId, ana.id, count, (i) => `history line w${i}`);
    await t.restart();

    const client = await CommandClient.connect(t, ana);
    try {
      await client.request('join_room', { room_id: roomId });
      // The index's file, read on a connection of the test's own (the search worker writes it).
      const reader = openSearchDatabase(searchDbFileOf(t.config.dbFile));
      index = reader;
      const rows = (): z.infer<typeof RowsSchema> => RowsSchema.parse(reader.prepare('SELECT message_id, doc_name FROM search_rows').all());
      await expect.poll(() => rows().length, { timeout: 60_000, interval: 200 }).toBe(count);
      await expect.poll(() => rows().filter((row) => parseDocName(row.doc_name)?.segment === null).length, { timeout: 60_000, interval: 200 }).toBe(0);
      expect(new Set(rows().map((row) => row.message_id))).toEqual(new Set(ids));
    } finally {
      await client.close();
    }

    for (const i of [0, SEGMENT_MAX_MESSAGES, count - 1]) {
      const res = await t.api(ben, 'GET', `/api/search?q=w${i}`);
      expect(MessageSearchResultsSchema.parse(res.body).results.map((hit) => hit.message_id)).toEqual([ids[i]]);
    }
  });
});
