import { Hono } from 'hono';
import { ChatRoomCreateSchema, ChatRoomListQuerySchema, ChatRoomUpdateSchema, type ChatRoom, type ChatRoomList } from '../../shared/models/chatRoom.ts';
import { ParleyError } from '../../shared/errors/errorCodes.ts';
import { encodeRoomCursor, roomsAfter } from './roomListCursor.ts';
import type { ChatRoomUpdate } from '../../shared/models/chatRoom.ts';
import type { DirectoryApi } from '../storage/DirectoryApi.ts';
import type { ApiDeps, ApiEnv } from './ApiDeps.ts';
import { notifyRoom } from './notifyAccess.ts';
import { parseJsonBody, parseQuery } from './parseRequest.ts';
import { lockActiveMember, requireActiveMember, requireManager, roomIdParam } from './roomAccess.ts';

const changesSomething = (patch: ChatRoomUpdate): boolean =>
  patch.name !== undefined || patch.is_active !== undefined || patch.extra_metadata !== undefined;

/** /api/rooms: create, list, read and update rooms. Members live in memberRoutes. */
export function roomRoutes(deps: ApiDeps): Hono<ApiEnv> {
  const { directory } = deps;
  const now = deps.now ?? Date.now;
  const app = new Hono<ApiEnv>();

  app.post('/', async (c) => {
    const limited = deps.roomCreation.take(c.var.user.id);
    if (limited) {
      throw new ParleyError('rate_limited', `too many rooms created; try again in ${limited.retryAfterSeconds} s`, { retry_after_seconds: limited.retryAfterSeconds });
    }
    const input = await parseJsonBody(c, ChatRoomCreateSchema);
    const room = await directory.createRoom(input, c.var.user.id, now());
    notifyRoom(deps, room.id);
    return c.json(room satisfies ChatRoom, 201);
  });

  app.get('/', async (c) => {
    const { limit, cursor } = parseQuery(c, ChatRoomListQuerySchema);
    const after = roomsAfter(await directory.rooms.listForUser(c.var.user.id), cursor);
    const rooms = after.slice(0, limit);
    const last = rooms.at(-1);
    return c.json({ rooms, next_cursor: after.length > limit && last ? encodeRoomCursor(last) : null } satisfies ChatRoomList);
  });

  app.get('/:roomId', async (c) => {
    const roomId = roomIdParam(c);
    await requireActiveMember(directory, roomId, c.var.user.id);
    return c.json((await summary(directory, roomId)) satisfies ChatRoom);
  });

  app.patch('/:roomId', async (c) => {
    const roomId = roomIdParam(c);
    const userId = c.var.user.id;
    // Checked before reading the body (a non-member learns nothing from validation errors),
    // and again in the transaction, with the room locked: membership may change while the
    // body arrives, or on another node between the check and the write.
    requireManager(await requireActiveMember(directory, roomId, userId));
    const patch = await parseJsonBody(c, ChatRoomUpdateSchema);
    const at = now();
    const room = await directory.transaction(async (tx) => {
      requireManager(await lockActiveMember(tx, roomId, userId));
      if (changesSomething(patch)) await tx.rooms.update(roomId, patch, at);
      return summary(tx, roomId);
    });
    if (changesSomething(patch)) notifyRoom(deps, roomId);
    return c.json(room satisfies ChatRoom);
  });

  return app;
}

/** The room as its members see it; its existence was checked just before (in the same transaction when `directory` is one's `tx`). */
async function summary(directory: DirectoryApi, roomId: string): Promise<ChatRoom> {
  const room = await directory.rooms.getSummary(roomId);
  if (!room) throw new Error(`room ${roomId} vanished`);
  return room;
}
