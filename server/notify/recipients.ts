import type { ChatRoomType } from '../../shared/models/chatRoom.ts';
import type { NotificationType } from '../../shared/models/notification.ts';

/** What deciding who to notify needs of a message (a MessageView has it). */
export interface NotifiableMessage {
  readonly senderId: string | null;
  readonly type: string;
  readonly deletedAt: number | null;
  readonly mentionedUsers?: readonly string[];
}

export interface Recipient {
  readonly userId: string;
  readonly type: NotificationType;
}

/** Whether a message can notify anyone at all, before any member is looked up: a person's live message that mentions someone, or any in a direct room. */
export function mayNotify(message: NotifiableMessage, direct: boolean): boolean {
  if (message.senderId === null || message.type === 'system' || message.deletedAt !== null) return false;
  return direct || (message.mentionedUsers?.length ?? 0) > 0;
}

/**
 * Who a new message notifies (docs/notifications.md): in a direct room every other active member
 * (`direct_message`, whether mentioned or not); elsewhere each mentioned user who is an active
 * member (`mention`). Never the sender, never a member who muted the room; once each.
 */
export function recipientsOf(message: NotifiableMessage, roomType: ChatRoomType, audience: readonly { readonly user_id: string; readonly muted: boolean }[]): Recipient[] {
  const direct = roomType === 'direct';
  if (!mayNotify(message, direct)) return [];
  const listening = new Map(audience.map((m) => [m.user_id, !m.muted]));
  const candidates = direct ? audience.map((m) => m.user_id) : (message.mentionedUsers ?? []);
  const type: NotificationType = direct ? 'direct_message' : 'mention';
  const out: Recipient[] = [];
  const seen = new Set<string>();
  for (const userId of candidates) {
    if (userId === message.senderId || seen.has(userId) || listening.get(userId) !== true) continue;
    seen.add(userId);
    out.push({ userId, type });
  }
  return out;
}
