import type { ChatMember } from '../../shared/models/chatMember.ts';
import type { User } from '../../shared/models/user.ts';
import type { MessageView } from '../../shared/roomDoc/messageView.ts';
import { toChatMessage } from '../../shared/roomDoc/toChatMessage.ts';
import type { ClientMessage } from './ChatRoom.ts';
import type { MessageState } from './RoomReplica.ts';

/** A message as the app reads it: the API's ChatMessage, its sender named (mine, else the cached member's), and its state. */
export function toClientMessage(view: MessageView, roomId: string, me: User, members: readonly ChatMember[], state: MessageState): ClientMessage {
  const nameOf = (userId: string): string | null => (userId === me.id ? me.name : (members.find((m) => m.user_id === userId)?.user?.name ?? null));
  return { ...toChatMessage(view, roomId, nameOf), state };
}
