import type { MessageSearchResult } from '../../shared/models/messageSearch.ts';
import type { LocalHit } from './LocalSearchIndex.ts';
import type { QueryMatcher } from './QueryMatcher.ts';
import { localSnippet, segmentsOf, type TextSegment } from './snippetSegments.ts';

export type { TextSegment } from './snippetSegments.ts';

/** Where a hit was found for this answer: the device's index, the server's, or both. */
export type SearchHitSource = 'local' | 'server' | 'both';

/** One message found. */
export interface SearchHit {
  readonly messageId: string;
  readonly roomId: string;
  /** null for a system message (neither index holds those today). */
  readonly senderId: string | null;
  /** ISO 8601, like `created_at` in the API. */
  readonly createdAt: string;
  /**
   * The snippet as plain text pieces, the matched words marked. Render each as a text node (a
   * matched one inside <mark>): never as HTML. From the device's copy when it holds the message
   * and it matches (the newest text: an edit not synced yet shows), else the server's snippet.
   */
  readonly segments: readonly TextSegment[];
  readonly source: SearchHitSource;
}

/** A room's hits, in the order of the answer. */
export interface SearchRoomHits {
  readonly roomId: string;
  /** The room's name as the room list has it (null: a direct room, or a room the list does not know yet). */
  readonly roomName: string | null;
  readonly hits: readonly SearchHit[];
}

/**
 * One page of a search (ChatClient.search). Rooms come in the order of their best hit; within a
 * room, hits keep the order of the answer: the server's ranking first, then hits only the device
 * found.
 */
export interface SearchResults {
  readonly rooms: readonly SearchRoomHits[];
  /** The server's answer is missing (unreachable, timed out, failed): these are the device's hits alone. */
  readonly offline: boolean;
  /** The device's index was still being built from what it stores: local hits may be missing. */
  readonly indexing: boolean;
  /** Pass as `cursor` for the next page; null on the last one. Valid on this ChatClient only. */
  readonly nextCursor: string | null;
}

/** What one page is made of, before grouping. */
export interface PageParts {
  /** The server's page, in its order (null: no answer from the server). */
  readonly server: readonly MessageSearchResult[] | null;
  /** Hits of the device's index to add after the server's (already ranked and cut). */
  readonly local: readonly LocalHit[];
  readonly matcher: QueryMatcher;
  /** The device's copy of a message (null: it holds none, or not one that counts). */
  readonly held: (messageId: string) => { readonly content: string } | null;
}

/**
 * The hits of one page, merged by message id: each server hit (labelled `both` when the device's
 * index found it too), then the device's hits the server's page lacks. A message comes once.
 */
export function mergeHits({ server, local, matcher, held }: PageParts, foundLocally: ReadonlySet<string>): SearchHit[] {
  const hits: SearchHit[] = [];
  const seen = new Set<string>();
  for (const result of server ?? []) {
    if (seen.has(result.message_id)) continue;
    seen.add(result.message_id);
    const copy = held(result.message_id);
    const segments = copy && matcher.holds(copy.content) ? localSnippet(copy.content, matcher) : segmentsOf(result.snippet, result.highlights);
    hits.push({
      messageId: result.message_id,
      roomId: result.room_id,
      senderId: result.sender_id,
      createdAt: result.created_at,
      segments,
      source: foundLocally.has(result.message_id) ? 'both' : 'server',
    });
  }
  for (const hit of local) {
    if (seen.has(hit.id)) continue;
    seen.add(hit.id);
    hits.push({
      messageId: hit.id,
      roomId: hit.roomId,
      senderId: hit.senderId,
      createdAt: new Date(hit.createdAt).toISOString(),
      segments: localSnippet(hit.content, matcher),
      source: 'local',
    });
  }
  return hits;
}

/** Hits grouped by room, rooms in the order of their first hit. */
export function groupByRoom(hits: readonly SearchHit[], roomName: (roomId: string) => string | null): SearchRoomHits[] {
  const groups = new Map<string, SearchHit[]>();
  for (const hit of hits) {
    const group = groups.get(hit.roomId);
    if (group) group.push(hit);
    else groups.set(hit.roomId, [hit]);
  }
  return [...groups].map(([roomId, roomHits]) => ({ roomId, roomName: roomName(roomId), hits: roomHits }));
}
