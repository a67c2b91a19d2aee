import { describe, expect, it } from 'vitest';
import { PLAIN_CONVERSATION_FIELDS } from '../../shared/models/chatMessage.ts';
import type { ChatRoom, ClientMessage } from '../room/ChatRoom.ts';
import type { ConnectionState } from '../sync/RoomConnection.ts';
import { LATEST, MAX_WINDOW, PAGE_SIZE, newerWindow, olderWindow, readWindow, windowAround } from './controllers/MessageWindow.ts';
import { UNKNOWN_YET, UnreadAnchor, firstUnreadAfter } from './controllers/UnreadAnchor.ts';

const ME = 'user-ben';
const ANA = 'user-ana';

/** Ids that sort as they are numbered, like UUIDv7s in time order. */
const idOf = (n: number): string => `m${String(n).padStart(5, '0')}`;

function message(n: number, sender: string, deleted = false): ClientMessage {
  const at = new Date(Date.UTC(2026, 0, 1, 10, 0, n)).toISOString();
  return {
    id: idOf(n),
    room_id: 'room',
    sender_id: sender,
    sender_name: sender,
    message_type: 'text',
    content: deleted ? '' : `message ${n}`,
    extra_metadata: {},
    is_deleted: deleted,
    deleted_at: deleted ? at : null,
    is_edited: false,
    reactions: {},
    created_at: at,
    updated_at: at,
    ...PLAIN_CONVERSATION_FIELDS,
    state: { state: 'sent' },
  };
}

type FakeRoom = Pick<ChatRoom, 'messages' | 'readPosition' | 'loadHistory' | 'unreadCount'> & {
  position: string | null;
  connectionState: ConnectionState;
  segmented: boolean;
  list: ClientMessage[];
};

/** A room as ChatRoom pages it (display order, ids compared as strings), held in an array. */
function fakeRoom(list: ClientMessage[], position: string | null, connectionState: ConnectionState = 'online'): FakeRoom {
  const room: FakeRoom = {
    list,
    position,
    connectionState,
    segmented: false,
    messages({ beforeId, afterId, limit = 50 } = {}) {
      const all = room.list;
      if (afterId !== undefined) {
        const from = all.filter((m) => m.id <= afterId).length;
        return { messages: all.slice(from, from + limit), hasMore: from + limit < all.length };
      }
      const end = beforeId === undefined ? all.length : all.filter((m) => m.id < beforeId).length;
      const start = Math.max(0, end - limit);
      return { messages: all.slice(start, end), hasMore: start > 0 };
    },
    readPosition: () => room.position,
    loadHistory: () => Promise.resolve(),
    unreadCount: () => room.list.filter((m) => (room.position === null || m.id > room.position) && m.sender_id !== ME && !m.is_deleted).length,
  };
  return room;
}

const range = (from: number, to: number, sender: string): ClientMessage[] => Array.from({ length: to - from }, (_, i) => message(from + i, sender));

describe('windowAround', () => {
  it('holds a page of context, the message, and up to a page less one after it; ends before the next', () => {
    const room = fakeRoom(range(0, 500, ANA), null);
    const window = windowAround(room, idOf(300));
    expect(window).toEqual({ endBefore: idOf(300 + PAGE_SIZE), size: 2 * PAGE_SIZE });
    const shown = readWindow(room, window).messages.map((m) => m.id);
    expect(shown[0]).toBe(idOf(300 - PAGE_SIZE));
    expect(shown.indexOf(idOf(300))).toBe(PAGE_SIZE);
    expect(shown.at(-1)).toBe(idOf(300 + PAGE_SIZE - 1));
  });

  it('reaches the newest messages when few follow, and has less context at the start of the room', () => {
    const room = fakeRoom(range(0, 60, ANA), null);
    const window = windowAround(room, idOf(10));
    expect(window.endBefore).toBe(null);
    const page = readWindow(room, window);
    expect(page.messages.map((m) => m.id)).toEqual(range(0, 60, ANA).map((m) => m.id));
    expect(page.hasMore).toBe(false);
  });

  it('pages on either way within MAX_WINDOW', () => {
    const room = fakeRoom(range(0, 2000, ANA), null);
    let window = windowAround(room, idOf(1000));
    for (let i = 0; i < 4; i++) window = olderWindow(window, readWindow(room, window).messages);
    expect(window.size).toBe(MAX_WINDOW);
    expect(readWindow(room, window).messages).toHaveLength(MAX_WINDOW);
    for (let i = 0; i < 40 && window.endBefore !== null; i++) {
      const next = newerWindow(room, window, readWindow(room, window).messages.at(-1)?.id ?? '');
      expect(next).not.toBeNull();
      if (next) window = next;
    }
    expect(window).toEqual({ endBefore: null, size: MAX_WINDOW });
    expect(LATEST).toEqual({ endBefore: null, size: PAGE_SIZE });
  });
});

describe('paging forward into a segment still opening', () => {
  // The room holds 0..99 and knows newer ones exist (the next segment is on its way).
  const held = range(0, 100, ANA);
  const opening: Parameters<typeof newerWindow>[0] = {
    messages: ({ afterId, beforeId, limit = 50 } = {}) => {
      if (afterId !== undefined) {
        const after = held.filter((m) => m.id > afterId).slice(0, limit);
        return { messages: after, hasMore: true };
      }
      const before = held.filter((m) => beforeId === undefined || m.id < beforeId);
      return { messages: before.slice(-limit), hasMore: before.length > limit };
    },
  };

  it('never jumps to the newest messages over the gap', () => {
    const next = newerWindow(opening, { endBefore: idOf(61), size: 61 }, idOf(60));
    expect(next).not.toBeNull();
    expect(next?.endBefore).not.toBeNull();
    // The window now ends with the last message held, and still reads as having newer ones.
    expect(readWindow(opening, next ?? LATEST).messages.at(-1)?.id).toBe(idOf(99));
    // Nothing newer held at all: the window stays until the segment's change comes.
    expect(newerWindow(opening, { endBefore: null, size: 50 }, idOf(99))).toBeNull();
  });

  it('ends a window around a message where the held ones stop', () => {
    const window = windowAround(opening, idOf(80));
    expect(window.endBefore).not.toBeNull();
    expect(readWindow(opening, window).messages.at(-1)?.id).toBe(idOf(99));
  });
});

describe('firstUnreadAfter', () => {
  it('skips my own and deleted messages, page after page', () => {
    const list = [...range(0, 10, ANA), ...range(10, 700, ME), message(700, ANA, true), message(701, ANA)];
    expect(firstUnreadAfter(fakeRoom(list, null), idOf(5), ME)).toBe(idOf(6));
    expect(firstUnreadAfter(fakeRoom(list, null), idOf(9), ME)).toBe(idOf(701));
    expect(firstUnreadAfter(fakeRoom(list, null), idOf(701), ME)).toBe(null);
  });

  it('cannot tell while the messages after mine are in a segment still opening', () => {
    // Only my own messages are held after the position; newer ones exist but are not readable yet.
    const room = fakeRoom(range(0, 20, ME), null);
    const opening: Pick<ChatRoom, 'messages'> = {
      messages: (opts) => {
        const page = room.messages(opts);
        return opts?.afterId !== undefined ? { messages: page.messages, hasMore: true } : page;
      },
    };
    expect(firstUnreadAfter(opening, idOf(5), ME)).toBe(UNKNOWN_YET);
  });
});

describe('UnreadAnchor', () => {
  it('opens at the first unread and counts them until my position moves', () => {
    const room = fakeRoom(range(0, 130, ANA), idOf(9));
    const anchor = new UnreadAnchor(ME, () => undefined);
    expect(anchor.decide(room)).toBe('unread');
    expect([anchor.firstId, anchor.count, anchor.decided]).toEqual([idOf(10), 120, true]);
    room.list.push(message(130, ANA));
    expect(anchor.decide(room)).toBe(null);
    anchor.refreshCount(room);
    expect(anchor.count).toBe(121);
    room.position = idOf(130);
    room.list.push(message(131, ANA));
    anchor.decide(room);
    anchor.refreshCount(room);
    expect([anchor.firstId, anchor.count]).toEqual([idOf(10), 121]);
  });

  it('waits while the room connects with nothing unread on the device, then opens at the newest', () => {
    const room = fakeRoom(range(0, 10, ANA), idOf(9), 'connecting');
    const anchor = new UnreadAnchor(ME, () => undefined);
    expect(anchor.decide(room)).toBe(null);
    expect(anchor.decided).toBe(false);
    room.connectionState = 'online';
    expect(anchor.decide(room)).toBe('latest');
    expect(anchor.firstId).toBe(null);
  });

  it('opens at the newest when I never read the room, or when all that is new is mine', () => {
    expect(new UnreadAnchor(ME, () => undefined).decide(fakeRoom(range(0, 10, ANA), null))).toBe('latest');
    expect(new UnreadAnchor(ME, () => undefined).decide(fakeRoom([...range(0, 5, ANA), ...range(5, 10, ME)], idOf(4)))).toBe('latest');
    const waiting = new UnreadAnchor(ME, () => undefined);
    expect(waiting.decide(fakeRoom(range(0, 10, ANA), null, 'connecting'))).toBe(null);
  });

  it('stays at the newest once the reader went there first', () => {
    const room = fakeRoom(range(0, 10, ANA), idOf(2), 'connecting');
    room.segmented = true;
    let looked = 0;
    const anchor = new UnreadAnchor(ME, () => looked++);
    expect(anchor.decide(room)).toBe(null);
    anchor.skip();
    expect([anchor.decided, anchor.firstId]).toEqual([true, null]);
    expect(anchor.decide(room)).toBe(null);
    expect(looked).toBe(0);
  });

  it('in a room in segments, opens the segments from my position on before looking', async () => {
    const room = fakeRoom(range(0, 10, ANA), idOf(2));
    room.segmented = true;
    const asked: Array<string | undefined> = [];
    let loaded: () => void = () => undefined;
    room.loadHistory = ({ beforeId } = {}) => {
      asked.push(beforeId);
      return new Promise<void>((resolve) => (loaded = resolve));
    };
    let looked = 0;
    const anchor = new UnreadAnchor(ME, () => looked++);
    expect(anchor.decide(room)).toBe(null);
    expect(anchor.decide(room)).toBe(null);
    expect(asked).toHaveLength(1);
    const cursor = asked[0] ?? '';
    expect(cursor > idOf(2) && cursor < idOf(3)).toBe(true);
    loaded();
    await Promise.resolve();
    expect(looked).toBe(1);
    expect(anchor.decide(room)).toBe('unread');
    expect(anchor.firstId).toBe(idOf(3));
  });
});
