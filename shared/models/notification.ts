import { z } from 'zod';
import { RoomIdSchema, UserIdSchema, UuidSchema } from '../ids.ts';
import { ChatMessageSchema } from './chatMessage.ts';
import { ChatRoomTypeSchema, RoomNameSchema } from './chatRoom.ts';
import { TimestampSchema } from './timestamps.ts';

/*
 * Notifications (docs/notifications.md): a new message that mentions a member, or any new message
 * in a direct room, is a notification for each recipient (an active member, not the sender, who
 * has not muted the room). It reaches the recipient's connected devices on their user feed, or,
 * when none is connected, the host app's webhook. Both carry this same JSON object.
 */

/** `mention`: the message names the recipient in `mentioned_users`; `direct_message`: any message in a direct room (a mention there too). */
export const NotificationTypeSchema = z.enum(['mention', 'direct_message']);
export type NotificationType = z.infer<typeof NotificationTypeSchema>;

/** The room as a notification names it: enough to title it without another request. */
export const NotificationRoomSchema = z.object({
  id: RoomIdSchema,
  /** Null for direct rooms: title them with the message's `sender_name`. */
  name: RoomNameSchema.nullable(),
  type: ChatRoomTypeSchema,
});

/**
 * One notification for one recipient: the webhook's request body, and an entry of a user feed
 * frame's `notifications`. `id` is unique per (message, recipient) and is the webhook's
 * `X-Parley-Delivery` header: the same on every retry, for the receiver's idempotency.
 */
export const ParleyNotificationSchema = z.object({
  type: NotificationTypeSchema,
  id: UuidSchema,
  /** The recipient. */
  user_id: UserIdSchema,
  room: NotificationRoomSchema,
  /** The message as the REST API shows it (sender_name included). */
  message: ChatMessageSchema,
  /** When the server decided to notify (ISO 8601); a retry keeps it. */
  created_at: TimestampSchema,
});
export type ParleyNotification = z.infer<typeof ParleyNotificationSchema>;

/** Webhook request headers (lower-case, as Node reads them). */
export const WEBHOOK_HEADERS = {
  /** `sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>" with PARLEY_WEBHOOK_SECRET>`. */
  signature: 'x-parley-signature',
  /** Unix seconds when this attempt was signed. */
  timestamp: 'x-parley-timestamp',
  /** The notification's id, the same on every attempt. */
  delivery: 'x-parley-delivery',
  /** 1 for the first attempt, 2 for the first retry, … */
  attempt: 'x-parley-attempt',
} as const;
