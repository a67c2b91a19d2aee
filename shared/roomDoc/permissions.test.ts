import { describe, expect, it } from 'vitest';
import { uuidv7Time } from '../ids.ts';
import type { MessageValue } from './layout.ts';
import { mayCreateMessage, mayDeleteMessage, mayEditMessage, mayWriteUserKey } from './permissions.ts';
import { ALICE, BOB, T0, alice, bob, carolAdmin, daveOwner, v7 } from '../../test/support/roomDocFixtures.ts';

const id = v7(T0);
const byAlice: MessageValue = { id, senderId: ALICE, type: 'text', content: 'x', meta: {}, createdAt: uuidv7Time(id) ?? 0 };
const system: MessageValue = { ...byAlice, senderId: null, type: 'system' };

describe('write rules', () => {
  it('lets members create messages only as themselves, and never system messages', () => {
    expect(mayCreateMessage(alice, byAlice)).toBe(true);
    expect(mayCreateMessage(bob, byAlice)).toBe(false);
    expect(mayCreateMessage(daveOwner, byAlice)).toBe(false);
    expect(mayCreateMessage(daveOwner, system)).toBe(false);
  });

  it('lets only the sender edit', () => {
    expect(mayEditMessage(alice, byAlice)).toBe(true);
    expect(mayEditMessage(bob, byAlice)).toBe(false);
    expect(mayEditMessage(carolAdmin, byAlice)).toBe(false);
    expect(mayEditMessage(daveOwner, system)).toBe(false);
  });

  it('lets the sender, admins and owners delete', () => {
    expect(mayDeleteMessage(alice, byAlice)).toBe(true);
    expect(mayDeleteMessage(bob, byAlice)).toBe(false);
    expect(mayDeleteMessage(carolAdmin, byAlice)).toBe(true);
    expect(mayDeleteMessage(daveOwner, system)).toBe(true);
    expect(mayDeleteMessage(alice, system)).toBe(false);
  });

  it('lets users write only reaction and read keys that carry their own id', () => {
    expect(mayWriteUserKey(bob, BOB)).toBe(true);
    expect(mayWriteUserKey(daveOwner, BOB)).toBe(false);
  });
});
