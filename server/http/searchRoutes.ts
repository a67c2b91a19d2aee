import { Hono } from 'hono';
import { z } from 'zod';
import { ParleyError } from '../../shared/errors/errorCodes.ts';
import { toTimestamp } from '../../shared/models/timestamps.ts';
import { MessageSearchQuerySchema, type MessageSearchResults } from '../../shared/models/messageSearch.ts';
import type { SearchWorker } from '../search/SearchWorker.ts';
import { parseSearchQuery } from '../../shared/search/parseSearchQuery.ts';
import { splitHighlights } from '../search/snippetHighlights.ts';
import type { ApiDeps, ApiEnv } from './ApiDeps.ts';
import { parseQuery } from './parseRequest.ts';
import { requireActiveMember } from './roomAccess.ts';

/** Deeper than this many results, refine the query instead (each page ranks every match again). */
const MAX_SEARCH_OFFSET = 1_000;

/**
 * The cursor: how many results earlier pages held, as base64url JSON. Opaque to clients. Results
 * are ranked again for each page, so a message indexed or removed between two requests may shift
 * the pages by one (docs/search.md).
 */
const CursorSchema = z.object({ o: z.int().min(1).max(MAX_SEARCH_OFFSET) });

const encodeCursor = (offset: number): string => Buffer.from(JSON.stringify({ o: offset })).toString('base64url');

function decodeCursor(cursor: string | undefined): number {
  if (cursor === undefined) return 0;
  try {
    return CursorSchema.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))).o;
  } catch {
    throw new ParleyError('invalid_payload', 'cursor is not one this server gave out');
  }
}

/**
 * GET /api/search?q=&room_id=&cursor=&limit= (docs/search.md): messages of the rooms the caller
 * is an active member of, best match first, each with a plain-text snippet and the character
 * ranges to highlight in it. The text becomes terms, of which the index builds a query of quoted
 * strings only (server/search/searchQuery.ts).
 */
export function searchRoutes(deps: ApiDeps, index: SearchWorker): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();

  app.get('/', async (c) => {
    const query = parseQuery(c, MessageSearchQuerySchema);
    const userId = c.var.user.id;
    // The caller's rooms as of now, with the query: a member removed a moment ago finds nothing new there.
    let roomIds: readonly string[];
    if (query.room_id === undefined) roomIds = await deps.directory.members.activeRoomIds(userId);
    else {
      await requireActiveMember(deps.directory, query.room_id, userId);
      roomIds = [query.room_id];
    }
    const terms = parseSearchQuery(query.q);
    if (terms.length === 0) throw new ParleyError('invalid_payload', 'the query holds no word to search for', [{ code: 'custom', path: ['q'], message: 'no letter or digit to search for' }]);
    const offset = decodeCursor(query.cursor);
    // One more than asked: whether a next page exists.
    let hits;
    try {
      hits = await index.search({ terms, roomIds, limit: query.limit + 1, offset });
    } catch (err) {
      deps.logger.warn({ err }, 'search: the index did not answer');
      throw new ParleyError('search_unavailable', 'search is unavailable for a moment; try again shortly');
    }
    const page = hits.slice(0, query.limit);
    const next = offset + page.length;
    return c.json({
      results: page.map((hit) => ({
        room_id: hit.roomId,
        message_id: hit.messageId,
        sender_id: hit.senderId,
        created_at: toTimestamp(hit.createdAt),
        ...splitHighlights(hit.marked),
      })),
      next_cursor: hits.length > query.limit && next <= MAX_SEARCH_OFFSET ? encodeCursor(next) : null,
    } satisfies MessageSearchResults);
  });

  return app;
}
