import { z } from 'zod';
import type { ParleyNotification } from '../../../shared/models/notification.ts';

/*
 * What the web app decides about notifications (docs/webapp.md, "Notifications"), as pure
 * functions of what it knows, so each rule is tested without a browser. NotificationController
 * applies them.
 */

/** The page's title with nothing unread. */
export const APP_TITLE = 'Parley';

/** `Notification.permission`, or 'unsupported' where the browser has no Notification API. */
export type NotificationAccess = NotificationPermission | 'unsupported';

/** The tab's title: the unread messages of every room not muted, `(3) Parley`; just `Parley` at 0. */
export function unreadTitle(rooms: readonly { readonly unreadCount: number; readonly muted: boolean }[]): string {
  const total = rooms.reduce((sum, room) => sum + (room.muted ? 0 : room.unreadCount), 0);
  return total > 0 ? `(${total}) ${APP_TITLE}` : APP_TITLE;
}

/**
 * Whether a notification the server pushed becomes a system notification: only while the page is
 * hidden (a visible page shows the message itself), only with permission, only for me, never for
 * my own message (another device of mine sent it) or a room I muted (the server already leaves
 * them out; a mute made a moment ago on another device may cross the message).
 */
export function shouldShow(notification: ParleyNotification, ctx: { readonly me: string; readonly hidden: boolean; readonly access: NotificationAccess; readonly mutedRooms: ReadonlySet<string> }): boolean {
  if (!ctx.hidden || ctx.access !== 'granted') return false;
  if (notification.user_id !== ctx.me || notification.message.sender_id === ctx.me) return false;
  if (notification.message.is_deleted) return false;
  return !ctx.mutedRooms.has(notification.room.id);
}

/** Longest body shown; system notifications show two or three lines at most anyway. */
const MAX_BODY = 140;

/** A system notification's text: who (and where, outside direct rooms) as its title, the first line of the message as its body. */
export function notificationText(notification: ParleyNotification): { title: string; body: string } {
  const { message, room } = notification;
  const sender = message.sender_name ?? 'Someone';
  const title = room.type === 'direct' || room.name === null ? sender : `${sender} in ${room.name}`;
  const line = message.content.split('\n').map((l) => l.trim()).find((l) => l !== '') ?? '';
  const fallback = message.message_type === 'image' ? 'Sent an image' : message.message_type === 'file' ? 'Sent a file' : 'New message';
  const text = line === '' ? fallback : line;
  return { title, body: text.length > MAX_BODY ? `${text.slice(0, MAX_BODY - 1)}…` : text };
}

/** After "Not now", the prompt to turn notifications on comes back this much later. */
export const PROMPT_AGAIN_AFTER_MS = 30 * 24 * 60 * 60_000;

/**
 * Whether to offer turning notifications on: only where the browser can, only while it has not
 * been asked (granted and denied are the person's answer, never asked again), only once signed in
 * with a room to hear from (never on the first load of the app), and not for a month after "Not now".
 */
export function offerNotifications(ctx: { readonly access: NotificationAccess; readonly signedIn: boolean; readonly rooms: number; readonly dismissedAt: number | null; readonly now: number }): boolean {
  if (ctx.access !== 'default' || !ctx.signedIn || ctx.rooms === 0) return false;
  return ctx.dismissedAt === null || ctx.now - ctx.dismissedAt >= PROMPT_AGAIN_AFTER_MS;
}

/** `localStorage` key of the prompt's dismissal on this device. */
export const PROMPT_DISMISSED_KEY = 'parley:notifications-prompt';
const DismissalSchema = z.object({ dismissedAt: z.number().int().nonnegative() });

/** When the prompt was last dismissed, from what `localStorage` holds (unreadable: never). */
export function parseDismissal(stored: string | null): number | null {
  if (stored === null) return null;
  try {
    const parsed = DismissalSchema.safeParse(JSON.parse(stored));
    return parsed.success ? parsed.data.dismissedAt : null;
  } catch {
    return null;
  }
}

export const dismissalValue = (now: number): string => JSON.stringify({ dismissedAt: now });
