import { describe, expect, it } from 'vitest';
import { avatarColor, initials } from './format/avatar.ts';
import { previewLine, roomTitle } from './format/roomTitle.ts';
import { typingLine } from './format/typingLine.ts';
import { parseRoute, parseMessageRoute, messageHref, roomHref } from './controllers/HashRouteController.ts';

describe('avatar', () => {
  it('takes the first and last initials, upper-cased, and a stable colour', () => {
    expect(initials('Ana Maria Lima')).toBe('AL');
    expect(initials('  bob ')).toBe('B');
    expect(initials('Élodie')).toBe('É');
    expect(initials('')).toBe('?');
    expect(avatarColor('user-1')).toBe(avatarColor('user-1'));
    expect(avatarColor('user-1')).toMatch(/^#[0-9a-f]{6}$/);
  });
});

describe('typingLine', () => {
  it('names up to two people, then counts the rest', () => {
    expect(typingLine([])).toBe('');
    expect(typingLine(['Ana'])).toBe('Ana is typing…');
    expect(typingLine(['Ana', 'Ben'])).toBe('Ana and Ben are typing…');
    expect(typingLine(['Ana', 'Ben', 'Cid'])).toBe('Ana, Ben and 1 other are typing…');
    expect(typingLine(['Ana', 'Ben', 'Cid', 'Dan'])).toBe('Ana, Ben and 2 others are typing…');
  });
});

describe('room titles and previews', () => {
  const message = { content: 'hi\n  there', is_deleted: false, sender_id: 'ana', sender_name: 'Ana' };
  it('names direct chats after the other person', () => {
    expect(roomTitle({ name: 'design', type: 'group' }, null)).toBe('design');
    expect(roomTitle({ name: null, type: 'direct' }, 'Ben')).toBe('Ben');
    expect(roomTitle({ name: null, type: 'direct' }, null)).toBe('Direct message');
  });
  it('prefixes the sender in groups, "You" for mine, and hides deleted text', () => {
    expect(previewLine(message, 'me', false)).toBe('Ana: hi there');
    expect(previewLine(message, 'me', true)).toBe('hi there');
    expect(previewLine(message, 'ana', false)).toBe('You: hi there');
    expect(previewLine({ ...message, is_deleted: true }, 'me', true)).toBe('Message deleted');
    expect(previewLine(null, 'me', false)).toBe('No messages yet');
  });
  it('says what was sent for files without a caption', () => {
    const file = { name: 'report.pdf', width: null };
    const photo = { name: 'a.png', width: 640 };
    expect(previewLine({ ...message, content: '', attachments: [file] }, 'me', false)).toBe('Ana: 📎 report.pdf');
    expect(previewLine({ ...message, content: '', attachments: [photo] }, 'me', true)).toBe('🖼 Photo');
    expect(previewLine({ ...message, content: '', attachments: [photo, photo] }, 'me', true)).toBe('🖼 2 photos');
    expect(previewLine({ ...message, content: '', attachments: [photo, file] }, 'me', true)).toBe('📎 2 files');
    expect(previewLine({ ...message, attachments: [file] }, 'me', true)).toBe('hi there');
  });
});

describe('hash routes', () => {
  it('round-trips a room id and ignores anything else', () => {
    expect(parseRoute(roomHref('0193a1b2-room/odd id'))).toBe('0193a1b2-room/odd id');
    expect(parseRoute('#/rooms/abc')).toBe('abc');
    expect(parseRoute('#/settings')).toBeNull();
    expect(parseRoute('#/rooms/%E0%A4%A')).toBeNull();
    expect(parseRoute('')).toBeNull();
    expect(parseMessageRoute(messageHref('r 1', 'm/2'))).toEqual({ roomId: 'r 1', messageId: 'm/2' });
    expect(parseMessageRoute('#/rooms/abc')).toEqual({ roomId: 'abc', messageId: null });
  });
});
