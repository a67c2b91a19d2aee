import { z } from 'zod';
import { MessageIdSchema, RoomIdSchema, UserIdSchema } from '../ids.ts';
import { TimestampSchema } from './timestamps.ts';

/*
 * GET /api/search (docs/search.md): full-text search over the messages of the caller's rooms.
 */

/** Longest search text, in UTF-16 code units. */
export const MAX_SEARCH_QUERY_LENGTH = 200;
export const MAX_SEARCH_RESULTS_PER_PAGE = 50;
export const DEFAULT_SEARCH_RESULTS_PER_PAGE = 20;

/** GET /api/search?q=&room_id=&cursor=&limit=: the text, an optional room, a page size, and where the previous page ended. */
export const MessageSearchQuerySchema = z.object({
  q: z.string().min(1).max(MAX_SEARCH_QUERY_LENGTH),
  room_id: RoomIdSchema.optional(),
  limit: z.coerce.number().int().min(1).max(MAX_SEARCH_RESULTS_PER_PAGE).default(DEFAULT_SEARCH_RESULTS_PER_PAGE),
  cursor: z.string().min(1).max(200).optional(),
});
export type MessageSearchQuery = z.infer<typeof MessageSearchQuerySchema>;

/**
 * A highlighted part of a snippet: [start, end) in UTF-16 code units (JavaScript string
 * indices), so `snippet.slice(start, end)` is the matched text.
 */
export const HighlightRangeSchema = z.tuple([z.int().nonnegative(), z.int().nonnegative()]).refine(([start, end]) => start < end, 'a highlight is not empty');

/**
 * One message found. `snippet` is plain text, never markup: render it as text and wrap the
 * `highlights` ranges in elements yourself, so HTML written in a message stays text.
 */
export const MessageSearchResultSchema = z.object({
  room_id: RoomIdSchema,
  message_id: MessageIdSchema,
  /** null for a system message (they are not indexed today: docs/search.md). */
  sender_id: UserIdSchema.nullable(),
  created_at: TimestampSchema,
  snippet: z.string(),
  highlights: z.array(HighlightRangeSchema),
});
export type MessageSearchResult = z.infer<typeof MessageSearchResultSchema>;

/** Best match first; `next_cursor` null on the last page. */
export const MessageSearchResultsSchema = z.object({
  results: z.array(MessageSearchResultSchema),
  next_cursor: z.string().nullable(),
});
export type MessageSearchResults = z.infer<typeof MessageSearchResultsSchema>;
