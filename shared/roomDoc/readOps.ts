import { SegmentIndex } from './segments.ts';
import type * as Y from 'yjs';
import { type Actor, assertActor } from './actor.ts';
import { isMessageId, parseMessageEntry, parseReadKey, parseReadValue, readKey, roomMaps } from './layout.ts';
import { type Result, failure } from './result.ts';

export type MarkReadResult = Result<'not_found', { readonly moved: boolean }>;

/*
 * A user's read position is the greatest message id over all of their `reads` keys, one key per
 * device (Yjs client id): two devices never write one key concurrently, so neither can overwrite
 * the other's newer position with an older one.
 */

/** Every user's read position: user id -> id of the newest message read. */
export function readPositions(doc: Y.Doc): Map<string, string> {
  const positions = new Map<string, string>();
  roomMaps(doc).reads.forEach((raw, key) => {
    const owner = parseReadKey(key);
    const value = parseReadValue(raw);
    if (!owner || value === null) return;
    const current = positions.get(owner.userId);
    if (current === undefined || value > current) positions.set(owner.userId, value);
  });
  return positions;
}

export function readPosition(doc: Y.Doc, userId: string): string | null {
  let position: string | null = null;
  roomMaps(doc).reads.forEach((raw, key) => {
    if (parseReadKey(key)?.userId !== userId) return;
    const value = parseReadValue(raw);
    if (value !== null && (position === null || value > position)) position = value;
  });
  return position;
}

/**
 * Moves the actor's read position forward to `messageId`; never backwards (moved: false). Also
 * deletes the actor's other keys that the new position supersedes, which keeps the map at about
 * one key per user: a Y.Map delete removes only the value it saw, so a higher position written
 * concurrently on another device survives it.
 */
export function markRead(doc: Y.Doc, actor: Actor, messageId: string, origin?: unknown): MarkReadResult {
  assertActor(actor);
  const { messages, reads } = roomMaps(doc);
  // A segmented room's head holds no messages: the caller found the message in its segment.
  const segmented = SegmentIndex.of(doc).segmented;
  if (!isMessageId(messageId) || (!segmented && !parseMessageEntry(messageId, messages.get(messageId)))) {
    return failure('not_found', `no message ${messageId}`);
  }
  const current = readPosition(doc, actor.userId);
  if (current !== null && messageId <= current) return { ok: true, moved: false };
  const own = readKey({ userId: actor.userId, clientId: doc.clientID });
  const superseded: string[] = [];
  reads.forEach((raw, key) => {
    if (key === own || parseReadKey(key)?.userId !== actor.userId) return;
    const value = parseReadValue(raw);
    if (value === null || value <= messageId) superseded.push(key);
  });
  doc.transact(() => {
    reads.set(own, messageId);
    for (const key of superseded) reads.delete(key);
  }, origin);
  return { ok: true, moved: true };
}
