import type { ChatMember } from '../../shared/models/chatMember.ts';
import { ClientError } from '../errors/ClientError.ts';

/**
 * Mentions name active members of the room (the server's validator refuses anything else, and a
 * refused update holds every later write of the device: docs/client.md, "Refusals"). Checked
 * against the member list the device has, before anything is written.
 */
export function checkMentions(mentionedUsers: readonly string[], members: readonly ChatMember[]): void {
  const active = new Set(members.filter((m) => m.is_active).map((m) => m.user_id));
  const outsider = mentionedUsers.find((userId) => !active.has(userId));
  if (outsider !== undefined) throw new ClientError('invalid_payload', `${outsider} is not a member of this room and cannot be mentioned`);
}
