import type { Room } from '../sync/Room.ts';
import { ParleyError } from '../../shared/errors/errorCodes.ts';
import { documentFor } from '../segments/roomHistory.ts';
import { HeldDocs } from '../segments/HeldDocs.ts';
import type { DocAccess } from '../segments/loadedDocs.ts';
import type { Actor } from '../../shared/roomDoc/actor.ts';
import { type CommandFailure, commandFailure } from './CommandFailure.ts';
import type { CommandConnection } from './CommandConnection.ts';
import type { CommandDeps, Outcome } from './CommandDeps.ts';

/**
 * What an operation on the room returns: a failure, or how to build the answer once committed
 * (its synchronous part runs right after the commit; it may then await the directory).
 */
export type RoomStep = CommandFailure | { readonly ok: true; readonly answer: (docs: DocAccess) => Outcome | Promise<Outcome> };

/**
 * What a command does in a room: its checks (which may read the directory) and then its change,
 * synchronously. It reaches the room's other documents through `docs` only (never the registry):
 * one not loaded throws, and the op runs again from the start once it is, so it reaches every
 * document it reads before it writes anything. `answer` reaches them the same way.
 */
export type RoomOp = (room: Room, actor: Actor, docs: DocAccess) => RoomStep | Promise<RoomStep>;

/** A change applied, its answer waiting for the commit; wrapped so that the turn does not wait for it. */
type Applied = CommandFailure | { readonly ok: true; readonly committed: Promise<Outcome> };

/**
 * Runs `op` on the room as the connection's user, with the same membership rule as the sync
 * endpoint (an active member of an active room; the role comes from the directory now, not from
 * when the socket opened). Whatever `op` applied is committed before the answer is built, so an
 * answer never reports a change the server could still lose, and reads never show one either.
 * A big room is loaded in slices first (RoomRegistry.openReady), as for a sync joiner, so a
 * command never holds the event loop for a whole room's load; any other document it reaches (an
 * older segment) is loaded through either store and held until the command is answered. With
 * `target`, `op` gets the document a change about that message (null: a new one) goes to: a
 * segment, once the room is segmented.
 *
 * The checks, the load and `op` take the connection's turn (CommandConnection.inTurn), so its
 * commands change rooms in the order they arrived whatever their reads of the directory await;
 * the wait for the commit is outside the turn, so a connection's commands still share one commit.
 */
export function inRoom(deps: CommandDeps, conn: CommandConnection, roomId: string, op: RoomOp, target?: { readonly messageId: string | null }): Promise<Outcome> {
  return conn.inTurn(() => apply(deps, conn, roomId, op, target)).then((applied) => (applied.ok ? applied.committed : applied));
}

async function apply(deps: CommandDeps, conn: CommandConnection, roomId: string, op: RoomOp, target?: { readonly messageId: string | null }): Promise<Applied> {
  const userId = conn.user.id;
  const before = await deps.access.check(roomId, userId);
  if (!before.ok) return commandFailure(before.code, before.reason);
  // Every document the command reaches stays loaded until it is answered (HeldDocs).
  const docs = new HeldDocs(deps.registry);
  let room: Room;
  try {
    await deps.registry.openReady(roomId);
    const head = docs.access(roomId);
    // In a segmented room, a message's change goes to the segment that holds it (documentFor).
    const docName = target ? await docs.run((reach) => documentFor(reach, head, roomId, target.messageId)) : roomId;
    if (docName !== roomId) await deps.registry.openReady(docName);
    room = docs.access(docName);
  } catch (err) {
    docs.release();
    // A refusal the load names (another node owns the room: owner_unavailable) is the answer.
    if (err instanceof ParleyError) return commandFailure(err.code, err.message);
    // A room that cannot be loaded (corrupt snapshot, storage fault) fails this command only.
    deps.logger.error({ err, room: roomId, user: userId }, 'command: room failed to load');
    return commandFailure('internal', 'internal error');
  }
  let step: RoomStep;
  let checkedAt = deps.access.rechecks;
  try {
    // Run again from its checks if `op` reached a document not loaded (an older segment on an
    // asynchronous store), once it is; the final run's checks and change are in one turn.
    step = await docs.run(async (reach) => {
      // Membership may have changed while a big room loaded: the rule holds as of now.
      const access = await deps.access.check(roomId, userId);
      checkedAt = deps.access.rechecks;
      if (!access.ok) return commandFailure(access.code, access.reason);
      return op(room, { userId, role: access.role }, reach);
    });
  } catch (err) {
    docs.release();
    deps.logger.error({ err, room: roomId, user: userId }, 'command failed');
    return commandFailure('internal', 'internal error');
  }
  if (!step.ok) {
    docs.release();
    return step;
  }
  const { answer } = step;
  const committed = new Promise<Outcome>((resolve) => {
    room.whenCommitted(
      () => {
        // Its first run is in this turn, right after the commit; it reads through the held documents.
        void docs
          .run(answer)
          .then(resolve, (err: unknown) => {
            deps.logger.error({ err, room: roomId, user: userId }, 'command answer failed');
            resolve(commandFailure('internal', 'internal error'));
          })
          .finally(() => {
            docs.release();
            // A recheck that began after the check may have missed a subscription made since
            // (join_room): it is rechecked, so the directory's later state holds.
            if (deps.access.rechecks !== checkedAt && conn.joined.has(roomId)) deps.recheck(roomId, userId);
          });
      },
      () => {
        docs.release();
        resolve(commandFailure('internal', 'the server could not store the change; it was not applied'));
      },
    );
  });
  return { ok: true, committed };
}
