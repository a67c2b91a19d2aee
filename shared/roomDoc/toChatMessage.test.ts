import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { ChatMessageSchema, PLAIN_CONVERSATION_FIELDS } from '../models/chatMessage.ts';
import { createMessage, createSystemMessage, deleteMessage, editMessage } from './messageOps.ts';
import type { MessageView } from './messageView.ts';
import { getMessage } from './queries.ts';
import { addReaction } from './reactionOps.ts';
import { toChatMessage } from './toChatMessage.ts';
import { ALICE, BOB, CAROL, T0, alice, bob, carolAdmin, sent } from '../../test/support/roomDocFixtures.ts';

const ROOM = '9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d';
const iso = (ms: number): string => new Date(ms).toISOString();
const names = new Map([[ALICE, 'Alice']]);
const nameOf = (userId: string): string | null => names.get(userId) ?? null;

function viewOf(doc: Y.Doc, id: string): MessageView {
  const view = getMessage(doc, id);
  if (!view) throw new Error(`no message ${id}`);
  return view;
}

describe('toChatMessage', () => {
  it('maps a fresh message to the API shape', () => {
    const doc = new Y.Doc();
    const id = sent(createMessage(doc, alice, { content: 'hello', meta: { lang: 'en' }, now: T0 }));
    const message = toChatMessage(viewOf(doc, id), ROOM, nameOf);
    expect(ChatMessageSchema.parse(message)).toEqual(message);
    expect(message).toEqual({
      id,
      room_id: ROOM,
      sender_id: ALICE,
      sender_name: 'Alice',
      message_type: 'text',
      content: 'hello',
      extra_metadata: { lang: 'en' },
      is_deleted: false,
      deleted_at: null,
      is_edited: false,
      reactions: {},
      created_at: iso(T0),
      updated_at: iso(T0),
      ...PLAIN_CONVERSATION_FIELDS,
    });
  });

  it('marks edits and orders reactions by time then user id', () => {
    const doc = new Y.Doc();
    const id = sent(createMessage(doc, bob, { content: 'v1', now: T0 }));
    editMessage(doc, bob, { id, content: 'v2', now: T0 + 60_000 });
    addReaction(doc, carolAdmin, { messageId: id, reaction: '👍', now: T0 + 10 });
    addReaction(doc, alice, { messageId: id, reaction: '👍', now: T0 + 10 });
    addReaction(doc, bob, { messageId: id, reaction: '👍', now: T0 + 5 });
    const message = toChatMessage(viewOf(doc, id), ROOM, nameOf);
    expect(ChatMessageSchema.safeParse(message).success).toBe(true);
    expect(message).toMatchObject({ content: 'v2', is_edited: true, sender_name: null, updated_at: iso(T0 + 60_000) });
    expect(message.reactions).toEqual({ '👍': [BOB, ALICE, CAROL] });
  });

  it('maps a deleted message: empty, deleted_at set, updated_at = deletion time', () => {
    const doc = new Y.Doc();
    const id = sent(createMessage(doc, alice, { content: 'oops', now: T0 }));
    editMessage(doc, alice, { id, content: 'oops!', now: T0 + 1000 });
    deleteMessage(doc, carolAdmin, { id, now: T0 + 2000 });
    const message = toChatMessage(viewOf(doc, id), ROOM);
    expect(ChatMessageSchema.safeParse(message).success).toBe(true);
    expect(message).toMatchObject({
      content: '',
      extra_metadata: {},
      is_deleted: true,
      deleted_at: iso(T0 + 2000),
      is_edited: true,
      updated_at: iso(T0 + 2000),
      sender_name: null,
    });
  });

  it('maps a system message with no sender and never asks for a name', () => {
    const doc = new Y.Doc();
    const id = sent(createSystemMessage(doc, { content: 'room created', now: T0 }));
    const asked: string[] = [];
    const message = toChatMessage(viewOf(doc, id), ROOM, (userId) => {
      asked.push(userId);
      return 'x';
    });
    expect(ChatMessageSchema.safeParse(message).success).toBe(true);
    expect(message).toMatchObject({ sender_id: null, sender_name: null, message_type: 'system' });
    expect(asked).toEqual([]);
  });
});
