import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { uuidv7 } from '../ids.ts';
import {
  DeletionValueSchema,
  MessageValueSchema,
  isMessageId,
  isTombstone,
  parseMessageEntry,
  parseReactionKey,
  parseReadKey,
  reactionKey,
  readKey,
  tombstoneOf,
} from './layout.ts';
import { ALICE, BOB, T0, v7 } from '../../test/support/roomDocFixtures.ts';

const FC = { seed: 20260101, numRuns: 200 };

const userIdArb = fc.uuid({ version: 4 });
const messageIdArb = fc.integer({ min: 0, max: 2 ** 47 }).map((ms) => uuidv7(ms));
const reactionArb = fc
  .string({ minLength: 1, maxLength: 32, unit: 'grapheme' })
  .filter((s) => s.length <= 32 && !/[\u0000-\u001f|]/.test(s) && !['__proto__', 'constructor', 'prototype'].includes(s));

describe('message ids', () => {
  it('are lowercase UUIDv7 only', () => {
    expect(isMessageId(uuidv7())).toBe(true);
    expect(isMessageId(uuidv7().toUpperCase())).toBe(false);
    expect(isMessageId('0c7f3a1e-58f2-4c8e-9a51-0b0f1c2d3e01')).toBe(false);
    expect(isMessageId(`${uuidv7()} `)).toBe(false);
  });
});

describe('MessageValueSchema', () => {
  const value = { id: v7(T0, 1), senderId: ALICE, type: 'text', content: 'hi', meta: {}, createdAt: T0 };

  it('accepts the documented shape, with or without editedAt', () => {
    expect(MessageValueSchema.safeParse(value).success).toBe(true);
    expect(MessageValueSchema.safeParse({ ...value, editedAt: T0 + 1 }).success).toBe(true);
  });

  it.each([
    ['createdAt not the id time', { createdAt: T0 + 1 }],
    ['an unknown field', { extra: 1 }],
    ['a system type with a sender', { type: 'system' }],
    ['no sender on a text message', { senderId: null }],
    ['a non-uuid sender', { senderId: 'alice' }],
    ['a fractional editedAt', { editedAt: 1.5 }],
    ['an array as meta', { meta: [] }],
    ['an unknown type', { type: 'video' }],
  ])('refuses %s', (_name, change) => {
    expect(MessageValueSchema.safeParse({ ...value, ...change }).success).toBe(false);
  });

  it('binds an entry to its key', () => {
    expect(parseMessageEntry(value.id, value)).not.toBeNull();
    expect(parseMessageEntry(v7(T0, 2), value)).toBeNull();
  });

  it('tombstones keep identity and drop content and meta', () => {
    const parsed = MessageValueSchema.parse({ ...value, meta: { a: 1 }, editedAt: T0 + 9 });
    expect(tombstoneOf(parsed)).toEqual({ ...value, content: '', meta: {}, editedAt: T0 + 9 });
    expect(Object.keys(tombstoneOf(MessageValueSchema.parse(value)))).not.toContain('editedAt');
  });
});

describe('DeletionValueSchema', () => {
  it('is exactly { deletedAt, deletedBy }', () => {
    expect(DeletionValueSchema.safeParse({ deletedAt: T0, deletedBy: BOB }).success).toBe(true);
    expect(DeletionValueSchema.safeParse({ deletedAt: T0, deletedBy: BOB, why: 'x' }).success).toBe(false);
    expect(DeletionValueSchema.safeParse({ deletedAt: -1, deletedBy: BOB }).success).toBe(false);
  });
});

describe('reaction keys', () => {
  it('round-trip', () => {
    fc.assert(
      fc.property(messageIdArb, userIdArb, reactionArb, (messageId, userId, reaction) => {
        expect(parseReactionKey(reactionKey({ messageId, userId, reaction }))).toEqual({ messageId, userId, reaction });
      }),
      FC,
    );
  });

  it.each([
    '',
    `${v7(T0)}|${ALICE}`,
    `${v7(T0)}|${ALICE}|👍|x`,
    `${v7(T0)}|alice|👍`,
    `nope|${ALICE}|👍`,
    `${v7(T0)}|${ALICE}|`,
    `${v7(T0)}|${ALICE}|__proto__`,
  ])('reject %j', (key) => {
    expect(parseReactionKey(key)).toBeNull();
  });
});

describe('read keys', () => {
  it('round-trip', () => {
    fc.assert(
      fc.property(userIdArb, fc.integer({ min: 0, max: 2 ** 32 - 1 }), (userId, clientId) => {
        expect(parseReadKey(readKey({ userId, clientId }))).toEqual({ userId, clientId });
      }),
      FC,
    );
  });

  it.each(['', ALICE, `${ALICE}|`, `${ALICE}|01`, `${ALICE}|-1`, `${ALICE}|1.5`, `${ALICE}|1|2`, 'bob|1', `${ALICE}|99999999999999999`])(
    'reject %j',
    (key) => {
      expect(parseReadKey(key)).toBeNull();
    },
  );
});

describe('attachments in a message value', () => {
  const ref = { id: uuidv7(T0), name: 'cat.png', mimeType: 'image/png', size: 1234, width: 640, height: 480 };
  const value = { id: v7(T0, 1), senderId: ALICE, type: 'image', content: 'look', meta: {}, createdAt: T0, attachments: [ref] };

  it('are accepted on image and file messages and refused on text and system ones', () => {
    expect(MessageValueSchema.safeParse(value).success).toBe(true);
    expect(MessageValueSchema.safeParse({ ...value, type: 'file' }).success).toBe(true);
    expect(MessageValueSchema.safeParse({ ...value, type: 'text' }).success).toBe(false);
    expect(MessageValueSchema.safeParse({ ...value, type: 'system', senderId: null }).success).toBe(false);
  });

  it('are refused when empty, repeated, more than ten, or with a path in the name or extra keys', () => {
    const many = Array.from({ length: 11 }, (_, i) => ({ ...ref, id: uuidv7(T0 + i) }));
    for (const attachments of [[], [ref, ref], many, [{ ...ref, name: '../etc/passwd' }], [{ ...ref, url: 'https://evil' }], [{ ...ref, mimeType: 'text/html; x' }]]) {
      expect(MessageValueSchema.safeParse({ ...value, attachments }).success).toBe(false);
    }
  });

  it('are gone from a tombstone, and a value that keeps them is not one', () => {
    const parsed = MessageValueSchema.parse(value);
    expect(tombstoneOf(parsed)).not.toHaveProperty('attachments');
    expect(isTombstone({ ...tombstoneOf(parsed), attachments: [ref] })).toBe(false);
  });
});
