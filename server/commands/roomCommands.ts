import { SegmentIndex, segmentDocName } from '../../shared/roomDoc/segments.ts';
import { findMessage, historyPage } from '../segments/roomHistory.ts';
import { markRead, readPosition } from '../../shared/roomDoc/readOps.ts';
import { toChatMessage } from '../../shared/roomDoc/toChatMessage.ts';
import { JOIN_ROOM_MESSAGES } from '../../shared/commands/commandAnswers.ts';
import type { CommandPayload } from '../../shared/commands/webSocketCommand.ts';
import { commandFailure } from './CommandFailure.ts';
import type { CommandConnection } from './CommandConnection.ts';
import type { CommandDeps, Outcome } from './CommandDeps.ts';
import { type RoomStep, inRoom } from './inRoom.ts';
import type { Room } from '../sync/Room.ts';
import { findView, roomSources, threadPage } from '../threads/threadHistory.ts';
import { RoomSubscription } from './RoomSubscription.ts';

export function joinRoom(deps: CommandDeps, conn: CommandConnection, p: CommandPayload<'join_room'>): Promise<Outcome> {
  return inRoom(deps, conn, p.room_id, (room) => ({
    ok: true,
    // Reading the snapshot and subscribing in one synchronous step, right after a commit (or
    // after loading a segment the page reaches, run again): the answer holds every committed
    // change and the events carry every later one, none twice. The room's summary (the
    // directory's) is read after that step.
    answer: async (docs) => {
      const page = historyPage(docs, room, p.room_id, undefined, JOIN_ROOM_MESSAGES, roomSources(docs, room, p.room_id));
      const joined = !conn.closed && !conn.joined.has(p.room_id);
      if (joined) {
        // A segmented room: the open segment (new messages) stays loaded while joined, and the
        // events of every segment loaded now or later are forwarded (CommandServer follows loads).
        const open = SegmentIndex.of(room.doc).open;
        const openSegment = open ? docs(segmentDocName(p.room_id, open.n)) : null;
        // Nothing is written from here on: what reaches a document not loaded has thrown above.
        const { release } = deps.registry.acquire(p.room_id, conn);
        const sub = new RoomSubscription({ room, release, feeds: deps.feeds, user: conn.user, send: (frame) => conn.send(frame), typingTimeoutMs: deps.typingTimeoutMs });
        conn.joined.set(p.room_id, sub);
        if (openSegment) {
          const lease = deps.registry.acquire(openSegment.roomId, sub);
          sub.follow(lease.room, lease.release);
        }
        for (const doc of deps.registry.docsOf(p.room_id)) sub.follow(doc);
      }
      const messages = page.messages.map((m) => toChatMessage(m, p.room_id, deps.nameOf));
      const summary = await deps.directory.rooms.getSummary(p.room_id);
      if (!summary) {
        // Gone meanwhile: the subscription just made is undone.
        const sub = joined ? conn.joined.get(p.room_id) : undefined;
        sub?.end();
        if (sub) conn.joined.delete(p.room_id);
        return commandFailure('not_found', 'no such room');
      }
      return { ok: true, data: { room: summary, messages, has_more: page.hasMore } };
    },
  }));
}

/** Leaving needs no membership: a removed member may still leave (it was unsubscribed already). */
export function leaveRoom(conn: CommandConnection, p: CommandPayload<'leave_room'>): Promise<Outcome> {
  // In the connection's turn, after the changes of the commands before it.
  return conn.inTurn(async (): Promise<Outcome> => {
    const sub = conn.joined.get(p.room_id);
    if (!sub) return commandFailure('not_joined', 'this connection has not joined the room');
    sub.end();
    conn.joined.delete(p.room_id);
    return { ok: true, data: { room_id: p.room_id } };
  });
}

export function typing(deps: CommandDeps, conn: CommandConnection, p: CommandPayload<'typing_start'>, on: boolean): Promise<Outcome> {
  return conn.inTurn(async (): Promise<Outcome> => {
    const access = await deps.access.check(p.room_id, conn.user.id);
    if (!access.ok) return commandFailure(access.code, access.reason);
    const sub = conn.joined.get(p.room_id);
    if (!sub) return commandFailure('not_joined', 'join the room before typing in it');
    sub.typing(on);
    return { ok: true, data: { room_id: p.room_id } };
  });
}

export function readMessages(deps: CommandDeps, conn: CommandConnection, p: CommandPayload<'read_messages'>): Promise<Outcome> {
  return inRoom(deps, conn, p.room_id, (room, actor, docs) => {
    // In a segmented room the message is in a segment and the position in the head.
    if (SegmentIndex.of(room.doc).segmented && !findMessage(docs, room, p.room_id, p.last_read_id)) {
      return commandFailure('not_found', `no message ${p.last_read_id}`);
    }
    const result = markRead(room.doc, actor, p.last_read_id, conn.origin);
    if (!result.ok) return commandFailure('not_found', result.message);
    return {
      ok: true,
      answer: () => ({ ok: true, data: { room_id: p.room_id, last_read_id: readPosition(room.doc, actor.userId) ?? p.last_read_id, moved: result.moved } }),
    };
  });
}

export function fetchHistory(deps: CommandDeps, conn: CommandConnection, p: CommandPayload<'fetch_history'>): Promise<Outcome> {
  return inRoom(deps, conn, p.room_id, (room, _actor, docs) => {
    // A thread: its root must be a message of the room, and not itself a reply.
    const root = p.parent_id === undefined ? null : findView(docs, room, p.room_id, p.parent_id);
    if (p.parent_id !== undefined && !root) return commandFailure('not_found', `no message ${p.parent_id}`);
    if (root?.parentId !== undefined) return commandFailure('invalid_payload', `message ${root.id} is a reply, not a thread root`);
    return fetchPage(deps, room, p);
  });
}

function fetchPage(deps: CommandDeps, room: Room, p: CommandPayload<'fetch_history'>): RoomStep {
  return {
    ok: true,
    answer: (docs) => {
      const before = p.before_id ?? undefined;
      const page = p.parent_id === undefined
        ? historyPage(docs, room, p.room_id, before, p.limit, roomSources(docs, room, p.room_id))
        : threadPage(docs, room, p.room_id, p.parent_id, before, p.limit);
      return { ok: true, data: { room_id: p.room_id, messages: page.messages.map((m) => toChatMessage(m, p.room_id, deps.nameOf)), has_more: page.hasMore } };
    },
  };
}
