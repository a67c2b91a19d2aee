import type { Room } from '../sync/Room.ts';
import { checkRoomAccess } from '../access/checkRoomAccess.ts';
import { documentFor } from '../segments/roomHistory.ts';
import type { Actor } from '../../shared/roomDoc/actor.ts';
import { type CommandFailure, commandFailure } from './CommandFailure.ts';
import type { CommandConnection } from './CommandConnection.ts';
import type { CommandDeps, Outcome } from './CommandDeps.ts';

/** What an operation on the room returns: a failure, or how to build the answer once committed. */
export type RoomStep = CommandFailure | { readonly ok: true; readonly answer: () => Outcome };

/**
 * Runs `op` on the room as the connection's user, with the same membership rule as the sync
 * endpoint (an active member of an active room; the role comes from the directory now, not from
 * when the socket opened). Whatever `op` applied is committed before the answer is built, so an
 * answer never reports a change the server could still lose, and reads never show one either.
 * A big room is loaded in slices first (RoomRegistry.openReady), as for a sync joiner, so a
 * command never holds the event loop for a whole room's load. With `target`, `op` gets the
 * document a change about that message (null: a new one) goes to: a segment, once the room is
 * segmented.
 */
export async function inRoom(
  deps: CommandDeps,
  conn: CommandConnection,
  roomId: string,
  op: (room: Room, actor: Actor) => RoomStep,
  target?: { readonly messageId: string | null },
): Promise<Outcome> {
  const before = checkRoomAccess(deps.directory, roomId, conn.user.id);
  if (!before.ok) return commandFailure(before.code, before.reason);
  const holder = {};
  let lease;
  try {
    const head = await deps.registry.openReady(roomId);
    // In a segmented room, a message's change goes to the segment that holds it (documentFor).
    const docName = target ? documentFor(deps.registry, head, roomId, target.messageId) : roomId;
    if (docName !== roomId) await deps.registry.openReady(docName);
    lease = deps.registry.acquire(docName, holder);
  } catch (err) {
    // A room that cannot be loaded (corrupt snapshot, storage fault) fails this command only.
    deps.logger.error({ err, room: roomId, user: conn.user.id }, 'command: room failed to load');
    return commandFailure('internal', 'internal error');
  }
  // Membership may have changed while a big room loaded: the rule holds as of now.
  const access = checkRoomAccess(deps.directory, roomId, conn.user.id);
  if (!access.ok) {
    lease.release();
    return commandFailure(access.code, access.reason);
  }
  const { room, release } = lease;
  let step: RoomStep;
  try {
    step = op(room, { userId: conn.user.id, role: access.role });
  } catch (err) {
    release();
    deps.logger.error({ err, room: roomId, user: conn.user.id }, 'command failed');
    return commandFailure('internal', 'internal error');
  }
  if (!step.ok) {
    release();
    return step;
  }
  const { answer } = step;
  return new Promise((resolve) => {
    room.whenCommitted(
      () => {
        try {
          resolve(answer());
        } catch (err) {
          deps.logger.error({ err, room: roomId, user: conn.user.id }, 'command answer failed');
          resolve(commandFailure('internal', 'internal error'));
        } finally {
          release();
        }
      },
      () => {
        release();
        resolve(commandFailure('internal', 'the server could not store the change; it was not applied'));
      },
    );
  });
}
