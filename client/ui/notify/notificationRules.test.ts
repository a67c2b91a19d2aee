import { describe, expect, it } from 'vitest';
import { ParleyNotificationSchema, type ParleyNotification } from '../../../shared/models/notification.ts';
import { PROMPT_AGAIN_AFTER_MS, dismissalValue, notificationText, offerNotifications, parseDismissal, shouldShow, unreadTitle } from './notificationRules.ts';

const ME = '00000000-0000-4000-8000-0000000000b0';
const ANA = '00000000-0000-4000-8000-0000000000a0';
const ROOM = '00000000-0000-4000-8000-0000000000c0';

function notification(overrides: { type?: 'mention' | 'direct_message'; room?: Partial<ParleyNotification['room']>; message?: Record<string, unknown>; user_id?: string } = {}): ParleyNotification {
  return ParleyNotificationSchema.parse({
    type: overrides.type ?? 'mention',
    id: '00000000-0000-4000-8000-0000000000d0',
    user_id: overrides.user_id ?? ME,
    room: { id: ROOM, name: 'launch', type: 'group', ...overrides.room },
    message: {
      id: '019a0000-0000-7000-8000-000000000001',
      room_id: ROOM,
      sender_id: ANA,
      sender_name: 'Ana Lima',
      message_type: 'text',
      content: 'Ben, the notes?',
      extra_metadata: {},
      is_deleted: false,
      deleted_at: null,
      is_edited: false,
      reactions: {},
      created_at: '2026-12-04T10:00:00.000Z',
      updated_at: '2026-12-04T10:00:00.000Z',
      mentioned_users: [ME],
      ...overrides.message,
    },
    created_at: '2026-12-04T10:00:00.100Z',
  });
}

const hiddenGranted = { me: ME, hidden: true, access: 'granted' as const, mutedRooms: new Set<string>() };

describe('the tab title', () => {
  it('counts unread messages of rooms not muted, and is plain at zero', () => {
    expect(unreadTitle([])).toBe('Parley');
    expect(unreadTitle([{ unreadCount: 0, muted: false }])).toBe('Parley');
    expect(unreadTitle([{ unreadCount: 2, muted: false }, { unreadCount: 1, muted: false }, { unreadCount: 40, muted: true }])).toBe('(3) Parley');
    expect(unreadTitle([{ unreadCount: 5, muted: true }])).toBe('Parley');
  });
});

describe('which pushed notifications show', () => {
  it('shows a mention or a direct message while the page is hidden, with permission', () => {
    expect(shouldShow(notification(), hiddenGranted)).toBe(true);
    expect(shouldShow(notification({ type: 'direct_message', room: { type: 'direct', name: null } }), hiddenGranted)).toBe(true);
  });

  it('not on a visible page, nor without permission', () => {
    expect(shouldShow(notification(), { ...hiddenGranted, hidden: false })).toBe(false);
    for (const access of ['default', 'denied', 'unsupported'] as const) expect(shouldShow(notification(), { ...hiddenGranted, access })).toBe(false);
  });

  it('never my own message, another user’s notification, a deleted message or a muted room', () => {
    expect(shouldShow(notification({ message: { sender_id: ME } }), hiddenGranted)).toBe(false);
    expect(shouldShow(notification({ user_id: ANA }), hiddenGranted)).toBe(false);
    expect(shouldShow(notification({ message: { is_deleted: true, deleted_at: '2026-12-04T10:00:01.000Z', content: '' } }), hiddenGranted)).toBe(false);
    expect(shouldShow(notification(), { ...hiddenGranted, mutedRooms: new Set([ROOM]) })).toBe(false);
  });
});

describe('a notification’s text', () => {
  it('titles with the sender, and the room outside direct chats; the body is the first line', () => {
    expect(notificationText(notification({ message: { content: '\n  Ben, the notes?  \nand more' } }))).toEqual({ title: 'Ana Lima in launch', body: 'Ben, the notes?' });
    expect(notificationText(notification({ type: 'direct_message', room: { type: 'direct', name: null } })).title).toBe('Ana Lima');
  });

  it('cuts long lines and names images and files', () => {
    expect(notificationText(notification({ message: { content: 'x'.repeat(500) } })).body).toBe(`${'x'.repeat(139)}…`);
    expect(notificationText(notification({ message: { content: '', message_type: 'image' } })).body).toBe('Sent an image');
    expect(notificationText(notification({ message: { content: ' ', message_type: 'file' } })).body).toBe('Sent a file');
  });
});

describe('offering to turn notifications on', () => {
  const ctx = { access: 'default' as const, signedIn: true, rooms: 2, dismissedAt: null, now: 1_000_000_000_000 };
  it('only once signed in with a room, while the browser has not asked', () => {
    expect(offerNotifications(ctx)).toBe(true);
    expect(offerNotifications({ ...ctx, signedIn: false })).toBe(false);
    expect(offerNotifications({ ...ctx, rooms: 0 })).toBe(false);
    for (const access of ['granted', 'denied', 'unsupported'] as const) expect(offerNotifications({ ...ctx, access })).toBe(false);
  });

  it('not for a month after "Not now", remembered as zod-checked JSON', () => {
    const dismissedAt = parseDismissal(dismissalValue(ctx.now));
    expect(dismissedAt).toBe(ctx.now);
    expect(offerNotifications({ ...ctx, dismissedAt, now: ctx.now + PROMPT_AGAIN_AFTER_MS - 1 })).toBe(false);
    expect(offerNotifications({ ...ctx, dismissedAt, now: ctx.now + PROMPT_AGAIN_AFTER_MS })).toBe(true);
    for (const junk of ['', 'yes', '{"dismissedAt":"soon"}', '[]', null]) expect(parseDismissal(junk)).toBeNull();
  });
});
