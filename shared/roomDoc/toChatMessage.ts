import { toAttachment } from '../models/attachment.ts';
import type { ChatMessage } from '../models/chatMessage.ts';
import { toTimestamp } from '../models/timestamps.ts';
import type { MessageView } from './messageView.ts';

/** The API's ChatMessage (snake_case, ISO timestamps) for a message read from a room document. */
export function toChatMessage(view: MessageView, roomId: string, nameOf?: (userId: string) => string | null): ChatMessage {
  const updatedAt = Math.max(view.createdAt, view.editedAt ?? 0, view.deletedAt ?? 0);
  return {
    id: view.id,
    room_id: roomId,
    sender_id: view.senderId,
    sender_name: view.senderId === null ? null : (nameOf?.(view.senderId) ?? null),
    message_type: view.type,
    content: view.content,
    extra_metadata: view.meta,
    is_deleted: view.deletedAt !== null,
    deleted_at: view.deletedAt === null ? null : toTimestamp(view.deletedAt),
    is_edited: view.editedAt !== null,
    reactions: view.reactions,
    created_at: toTimestamp(view.createdAt),
    updated_at: toTimestamp(updatedAt),
    parent_id: view.parentId ?? null,
    show_in_channel: view.showInChannel === true,
    quoted_message_id: view.quotedMessageId ?? null,
    quoted_message: view.quoted
      ? {
          id: view.quoted.id,
          sender_id: view.quoted.senderId,
          sender_name: view.quoted.senderId === null ? null : (nameOf?.(view.quoted.senderId) ?? null),
          content: view.quoted.text,
          is_deleted: view.quoted.deleted,
        }
      : null,
    mentioned_users: view.mentionedUsers ?? [],
    attachments: (view.attachments ?? []).map((ref) => toAttachment(roomId, ref)),
    reply_count: view.thread?.replyCount ?? 0,
    last_reply_at: view.thread?.lastReplyAt == null ? null : toTimestamp(view.thread.lastReplyAt),
    thread_participants: view.thread?.participants ?? [],
    pinned: view.pin !== undefined,
    pinned_at: view.pin ? toTimestamp(view.pin.pinnedAt) : null,
    pinned_by: view.pin?.pinnedBy ?? null,
  };
}
