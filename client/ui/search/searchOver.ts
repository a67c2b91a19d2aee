import type { ChatClient } from '../../ChatClient.ts';
import type { SearchAnswerView, SearchFn, SearchGroupView } from '../components/parley-search.ts';

/**
 * The search panel's SearchFn over a client: ChatClient.search (the device's index merged with the
 * server's results when online), grouped by room with the room's name as the list shows it; "More
 * results" asks for the next page with the cursor of the last answer and appends it.
 */
export function searchOver(client: ChatClient): SearchFn {
  let last: { query: string; cursor: string | null; answer: SearchAnswerView } | null = null;
  return async (query, more, signal) => {
    const cursor = more && last?.query === query ? last.cursor : null;
    const results = await client.search(query, { ...(cursor === null ? {} : { cursor }), signal, asYouType: true });
    const names = new Map(client.rooms().map((s) => [s.room.id, s.room.name]));
    const groups: SearchGroupView[] = results.rooms.map((group) => ({
      roomId: group.roomId,
      roomName: group.roomName ?? names.get(group.roomId) ?? 'Conversation',
      hits: group.hits.map((hit) => ({ roomId: hit.roomId, messageId: hit.messageId, senderId: hit.senderId, createdAt: hit.createdAt, segments: hit.segments })),
    }));
    const merged = cursor !== null && last ? mergeGroups(last.answer.groups, groups) : groups;
    const answer: SearchAnswerView = { groups: merged, offline: results.offline, hasMore: results.nextCursor !== null };
    last = { query, cursor: results.nextCursor, answer };
    return answer;
  };
}

/** A later page's groups appended to the earlier ones (a room's hits under its first group). */
function mergeGroups(earlier: readonly SearchGroupView[], later: readonly SearchGroupView[]): SearchGroupView[] {
  const out = earlier.map((g) => ({ ...g, hits: [...g.hits] }));
  for (const group of later) {
    const known = out.find((g) => g.roomId === group.roomId);
    const seen = new Set(known?.hits.map((h) => h.messageId));
    if (known) known.hits.push(...group.hits.filter((h) => !seen.has(h.messageId)));
    else out.push({ ...group, hits: [...group.hits] });
  }
  return out;
}
