import type * as Y from 'yjs';
import { type Actor, assertActor } from './actor.ts';
import { clockNow } from './clockNow.ts';
import { HEAD_ROOT, MAX_PINS, type PinValue } from './headMaps.ts';
import { isMessageId, parseDeletionValue, parseMessageEntry, roomMaps } from './layout.ts';
import type { MessageView } from './messageView.ts';
import { mayPin } from './permissions.ts';
import { pinCount, pinOf, pinsOf, withPin } from './pinReads.ts';
import { type Result, failure } from './result.ts';

export interface PinInput {
  readonly messageId: string;
  /** The stored pin time (ms); the clock when absent. */
  readonly now?: number;
  /**
   * The document holding the message: the head itself while the room is not segmented (the
   * default), else the segment that holds it (SegmentIndex.homeOf), which the caller opens: a
   * segmented head holds no messages, so a pin there could not check what it names.
   */
  readonly holder?: Y.Doc;
}

export type PinResult = Result<'invalid_payload' | 'not_found' | 'forbidden' | 'deleted', { readonly pin: PinValue }>;
export type UnpinResult = Result<'invalid_payload' | 'forbidden', { readonly unpinned: boolean }>;

/*
 * Pins live in the room's head (headMaps.ts), one key per message, written by owners and admins
 * (mayPin). Two managers pinning one message at once write values that mean the same; a pin
 * concurrent with an unpin is decided by Yjs alike on every replica. Both operations are
 * idempotent: pinning a pinned message keeps the first pin, unpinning an unpinned one writes nothing.
 */

/** Pins a message of the room (refused for members, an unknown or deleted message, and past MAX_PINS). */
export function pinMessage(head: Y.Doc, actor: Actor, input: PinInput, origin?: unknown): PinResult {
  assertActor(actor);
  const { messageId } = input;
  if (!mayPin(actor)) return failure('forbidden', 'only owners and admins pin messages');
  if (!isMessageId(messageId)) return failure('invalid_payload', `invalid message id ${JSON.stringify(messageId)}`);
  const { messages, deletions } = roomMaps(input.holder ?? head);
  if (!parseMessageEntry(messageId, messages.get(messageId))) return failure('not_found', `no message ${messageId}`);
  if (parseDeletionValue(deletions.get(messageId))) return failure('deleted', `message ${messageId} is deleted`);
  const existing = pinOf(head, messageId);
  if (existing) return { ok: true, pin: existing };
  const pins = head.getMap<unknown>(HEAD_ROOT.pins);
  // The validator counts keys (pinCount) the same way: a stale pin of a deleted message counts until unpinned.
  if (pinCount(head) >= MAX_PINS) return failure('invalid_payload', `a room holds at most ${MAX_PINS} pinned messages`);
  const pin: PinValue = { pinnedAt: clockNow(input.now), pinnedBy: actor.userId };
  head.transact(() => pins.set(messageId, pin), origin);
  return { ok: true, pin };
}

/** Unpins a message (any pinned key: also the pin of a message deleted since). */
export function unpinMessage(head: Y.Doc, actor: Actor, messageId: string, origin?: unknown): UnpinResult {
  assertActor(actor);
  if (!mayPin(actor)) return failure('forbidden', 'only owners and admins unpin messages');
  if (!isMessageId(messageId)) return failure('invalid_payload', `invalid message id ${JSON.stringify(messageId)}`);
  const pins = head.getMap<unknown>(HEAD_ROOT.pins);
  if (!pins.has(messageId)) return { ok: true, unpinned: false };
  head.transact(() => pins.delete(messageId), origin);
  return { ok: true, unpinned: true };
}

/**
 * The room's pinned messages, newest pin first, each with its pin. `find` reads a message where
 * the caller holds it (the head while not segmented; its segment once segmented) and returns null
 * for one it cannot read (yet): those, and deleted messages, are left out.
 */
export function pinnedMessages(head: Y.Doc, find: (messageId: string) => MessageView | null): MessageView[] {
  return pinsOf(head).flatMap(({ messageId }) => {
    const view = find(messageId);
    if (!view || view.deletedAt !== null) return [];
    return [withPin(view, head)];
  });
}
