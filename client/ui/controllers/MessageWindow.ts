import type { ChatRoom, ClientMessage } from '../../room/ChatRoom.ts';

/** Messages per page when scrolling through history. */
export const PAGE_SIZE = 50;
/** Most messages rendered at once: pages far from the viewport are dropped, so cost stays flat. */
export const MAX_WINDOW = 200;

/**
 * The rendered window: the `size` messages before `endBefore` (null: the newest ones). Scrolling
 * back grows it by pages and drops pages at the far end once it holds MAX_WINDOW.
 */
export interface MessageWindow {
  readonly endBefore: string | null;
  readonly size: number;
}

export const LATEST: MessageWindow = { endBefore: null, size: PAGE_SIZE };

type Pages = Pick<ChatRoom, 'messages'>;

/** The window's messages as the room holds them now (a short page: a segment still opening). */
export function readWindow(room: Pages, { endBefore, size }: MessageWindow): { messages: ClientMessage[]; hasMore: boolean } {
  return room.messages(endBefore === null ? { limit: size } : { beforeId: endBefore, limit: size });
}

/** One page further back; past MAX_WINDOW the newest page goes (the window then ends before its first message). */
export function olderWindow({ endBefore, size }: MessageWindow, shown: readonly ClientMessage[]): MessageWindow {
  if (size + PAGE_SIZE <= MAX_WINDOW) return { endBefore, size: size + PAGE_SIZE };
  return { endBefore: shown[shown.length - PAGE_SIZE]?.id ?? endBefore, size };
}

/**
 * A cursor just after message `id`: `beforeId` is strictly-before and ids are fixed-length, so
 * this ends a window with `id` itself included and nothing newer.
 */
const justAfter = (id: string): string => `${id}\u0000`;

/**
 * One page further forward from the window's newest message `lastId`, at most MAX_WINDOW; null
 * when nothing newer can be read yet (the next segment still opening: its 'change' renders again,
 * and the list asks once more).
 */
export function newerWindow(room: Pages, { size }: MessageWindow, lastId: string): MessageWindow | null {
  // One more than a page: the extra one is where the window now ends.
  const next = room.messages({ afterId: lastId, limit: PAGE_SIZE + 1 });
  const cursor = next.messages.length > PAGE_SIZE ? next.messages[PAGE_SIZE] : undefined;
  const added = Math.min(next.messages.length, PAGE_SIZE);
  if (cursor) return { endBefore: cursor.id, size: Math.min(MAX_WINDOW, size + added) };
  if (!next.hasMore) return { endBefore: null, size: Math.min(MAX_WINDOW, size + added) };
  // Short, with newer ones to come: the window must not jump to the newest messages over a gap.
  const shownLast = next.messages.at(-1);
  return shownLast ? { endBefore: justAfter(shownLast.id), size: Math.min(MAX_WINDOW, size + added) } : null;
}

/**
 * The window around message `id`: a page of context before it, and it with up to a page less one
 * after it (so that from there scrolling either way pages as usual).
 */
export function windowAround(room: Pages, id: string): MessageWindow {
  const after = room.messages({ afterId: id, limit: PAGE_SIZE });
  const cursor = after.messages.length > PAGE_SIZE - 1 ? after.messages[PAGE_SIZE - 1] : undefined;
  const shownAfter = Math.min(after.messages.length, PAGE_SIZE - 1);
  // Fewer after it than exist (a newer segment still opening): end the window where they stop.
  const endBefore = cursor ? cursor.id : after.hasMore ? justAfter(after.messages.at(-1)?.id ?? id) : null;
  return { endBefore, size: PAGE_SIZE + 1 + shownAfter };
}
