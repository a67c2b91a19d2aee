import type { CommandConnection } from './CommandConnection.ts';
import type { CommandDeps, Outcome } from './CommandDeps.ts';
import type { ParsedCommand } from './parseCommandFrame.ts';
import { deleteMessageCommand, editMessageCommand, reactionCommand, sendMessage } from './messageCommands.ts';
import { fetchPinned, pinMessageCommand, unpinMessageCommand } from './pinCommands.ts';
import { fetchHistory, joinRoom, leaveRoom, readMessages, typing } from './roomCommands.ts';

/** Runs one parsed command; resolves with its answer (never rejects: faults become `internal`). */
export function executeCommand(deps: CommandDeps, conn: CommandConnection, c: ParsedCommand): Promise<Outcome> {
  switch (c.command) {
    case 'join_room':
      return joinRoom(deps, conn, c.payload);
    case 'leave_room':
      return leaveRoom(conn, c.payload);
    case 'send_message':
      return sendMessage(deps, conn, c.payload);
    case 'read_messages':
      return readMessages(deps, conn, c.payload);
    case 'typing_start':
      return typing(deps, conn, c.payload, true);
    case 'typing_stop':
      return typing(deps, conn, c.payload, false);
    case 'fetch_history':
      return fetchHistory(deps, conn, c.payload);
    case 'add_reaction':
      return reactionCommand(deps, conn, c.payload, true);
    case 'remove_reaction':
      return reactionCommand(deps, conn, c.payload, false);
    case 'edit_message':
      return editMessageCommand(deps, conn, c.payload);
    case 'delete_message':
      return deleteMessageCommand(deps, conn, c.payload);
    case 'pin_message':
      return pinMessageCommand(deps, conn, c.payload);
    case 'unpin_message':
      return unpinMessageCommand(deps, conn, c.payload);
    case 'fetch_pinned':
      return fetchPinned(deps, conn, c.payload);
    default: {
      const unreachable: never = c;
      throw new Error(`unhandled command ${JSON.stringify(unreachable)}`);
    }
  }
}
