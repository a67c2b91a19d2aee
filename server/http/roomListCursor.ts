import { z } from 'zod';
import { ParleyError } from '../../shared/errors/errorCodes.ts';
import type { ChatRoom } from '../../shared/models/chatRoom.ts';
import { activityMs } from '../storage/RoomRepo.ts';

/*
 * The cursor of GET /api/rooms: where a page ended in the list's order (newest activity first,
 * ties by id), as base64url JSON. Opaque to clients. A room whose activity changes between two
 * page requests may move across the cursor (and show twice, or on no page until the next list):
 * the SDK de-duplicates by id, and the live room list keeps it current.
 */

const CursorSchema = z.object({ t: z.number(), id: z.string() });
type Cursor = z.infer<typeof CursorSchema>;

export function encodeRoomCursor(room: ChatRoom): string {
  return Buffer.from(JSON.stringify({ t: activityMs(room), id: room.id } satisfies Cursor)).toString('base64url');
}

/** The rooms after `cursor` in list order; a cursor that does not decode is 400 `invalid_payload`. */
export function roomsAfter(rooms: readonly ChatRoom[], cursor: string | undefined): readonly ChatRoom[] {
  if (cursor === undefined) return rooms;
  let parsed: Cursor;
  try {
    parsed = CursorSchema.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
  } catch {
    throw new ParleyError('invalid_payload', 'cursor is not one this server gave out');
  }
  const start = rooms.findIndex((room) => {
    const t = activityMs(room);
    return t < parsed.t || (t === parsed.t && room.id > parsed.id);
  });
  return start === -1 ? [] : rooms.slice(start);
}
