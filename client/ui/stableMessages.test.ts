import { describe, expect, it } from 'vitest';
import type { ClientMessage } from '../room/ChatRoom.ts';
import { PLAIN_CONVERSATION_FIELDS } from '../../shared/models/chatMessage.ts';
import { StableMessages } from './controllers/StableMessages.ts';

const AT = '2026-01-01T10:00:00.000Z';
const message = (fields: Partial<ClientMessage> = {}): ClientMessage => ({
  id: '01a20d34-d1a9-7000-822b-965cc5a08f4b',
  room_id: 'room',
  sender_id: 'ana',
  sender_name: 'Ana',
  message_type: 'text',
  content: 'hello',
  extra_metadata: {},
  is_deleted: false,
  deleted_at: null,
  is_edited: false,
  reactions: {},
  created_at: AT,
  updated_at: AT,
  ...PLAIN_CONVERSATION_FIELDS,
  state: { state: 'sent' },
  ...fields,
});

describe('StableMessages', () => {
  it('hands back the first object while what a row shows is unchanged, given the same object again or an equal one, and the new one once it changed', () => {
    const rows = new StableMessages();
    const first = message();
    expect(rows.stable(first)).toBe(first);
    const equal = message();
    expect(rows.stable(equal)).toBe(first);
    expect(rows.stable(equal)).toBe(first);
    const reacted = message({ reactions: { '👍': ['ben'] } });
    expect(rows.stable(reacted)).toBe(reacted);
    expect(rows.stable(reacted)).toBe(reacted);
    // An object handed over before the change and given again is compared, not taken as unchanged.
    expect(rows.stable(equal)).toBe(equal);
    expect(rows.stable(message({ state: { state: 'pending' } }))).not.toBe(equal);
  });
});
