import type { ChatMember } from '../../shared/models/chatMember.ts';
import type { User } from '../../shared/models/user.ts';

/** A sender's display name: mine, else the member's as cached (null: unknown here). */
export function senderName(me: User, members: readonly ChatMember[], userId: string): string | null {
  if (userId === me.id) return me.name;
  return members.find((m) => m.user_id === userId)?.user?.name ?? null;
}
