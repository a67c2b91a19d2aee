import { jsonProblem } from '../../shared/json.ts';
import type { Actor } from '../../shared/roomDoc/actor.ts';
import {
  MAX_FUTURE_SKEW_MS,
  MAX_PAST_SKEW_MS,
  type MessageValue,
  type RoomMaps,
  isMessageId,
  isTombstone,
  parseDeletionValue,
  parseMessageEntry,
  parseReactionKey,
  parseReactionValue,
  parseReadKey,
  parseReadValue,
  sameMessageIdentity,
} from '../../shared/roomDoc/layout.ts';
import { mayCreateMessage, mayDeleteMessage, mayEditMessage, mayWriteUserKey } from '../../shared/roomDoc/permissions.ts';
import { metaProblem } from '../../shared/roomDoc/valueLimits.ts';
import { uuidv7Time } from '../../shared/ids.ts';
import { Refused } from './Refused.ts';

/** The root maps of the room document layout, by name. */
export type RootName = keyof RoomMaps;

/** A map entry of the room document: which root map, which key. */
export interface Slot {
  readonly root: RootName;
  readonly key: string;
}

/**
 * A written value, or DELETED: an item that arrives already deleted (its content collected by the
 * sender's replica), or a value the update's delete set removes.
 */
export const DELETED = Symbol('deleted');
export type Written = unknown;

/**
 * What the rules need to know about the room while judging one update: the current value of any
 * slot (the document with this update's earlier writes on top), the sender, and the clock.
 */
export interface SlotContext {
  readonly userId: string;
  /** The sender as an actor with their room role (looked up only when a rule needs the role). */
  actor(): Actor;
  /** When the sender became a member of the room (ms), or null when unknown. */
  memberSince(): number | null;
  readonly now: number;
  /** The slot's value as of this point in the update; undefined when absent or deleted. */
  current(root: RootName, key: string): unknown;
  /** Whether the document is a segmented room's head: its messages live in segments (shared/roomDoc/segments.ts). */
  segmentedHead(): boolean;
  /** The message with this id as the update leaves it, or null (use in `atEnd` checks only). */
  finalMessage(id: string): MessageValue | null;
  /** Records that, by the end of the update, this message must carry a deletion record. */
  requireDeletion(messageId: string): void;
  /** Records that the sender's read position must be checked at the end of the update. */
  touchReads(): void;
  /** Counts a message this update creates (MAX_NEW_MESSAGES_PER_UPDATE). */
  countNewMessage(): void;
  /** Records a write that adds content without creating a message (Growth 'other'): deletions do not. */
  countGrowth(): void;
  /** Counts a reaction this update adds or removes (the per-update limit; the per-person one is checked at the end). */
  countReactionChange(): void;
  /**
   * Runs a check once every item of the update is judged. Checks that look at another slot wait
   * for the end: within one update a deletion record may come before the message it deletes
   * (whose earlier value the sender's replica collected), and rules must see the final values.
   */
  atEnd(check: () => void): void;
}

function parsedValue<T>(raw: unknown, parse: (raw: unknown) => T | null, what: string): T {
  const problem = jsonProblem(raw);
  const value = problem === null ? parse(raw) : null;
  if (value === null) throw new Refused('bad_value', `invalid ${what}${problem ? `: ${problem}` : ''}`);
  return value;
}

const sameIdentity = sameMessageIdentity;

function judgeMessage(ctx: SlotContext, key: string, value: Written): void {
  if (!isMessageId(key)) throw new Refused('bad_layout', `messages key ${JSON.stringify(key)} is not a message id`);
  const raw = ctx.current('messages', key);
  const existing = raw === undefined ? null : parseMessageEntry(key, raw);
  if (raw !== undefined && existing === null) throw new Refused('forbidden', `message ${key} holds a value nobody may rewrite`);
  if (value === DELETED) {
    // An item whose content the sender's replica already collected: judged as a removal of the value.
    if (existing === null || existing.senderId === ctx.userId) return;
    if (!mayDeleteMessage(ctx.actor(), existing)) throw new Refused('forbidden', `only the sender may edit message ${key}`);
    ctx.requireDeletion(key);
    return;
  }
  const next = parsedValue(value, (v) => parseMessageEntry(key, v), `message ${key}`);
  // Limits bind what is written now; a value stored before them stays deletable (a tombstone has empty meta).
  const tooLarge = metaProblem(next.meta);
  if (tooLarge) throw new Refused('over_limit', `message ${key}: ${tooLarge}`);
  if (existing === null) {
    ctx.countNewMessage();
    if (!mayCreateMessage(ctx.actor(), next)) throw new Refused('bad_message', `message ${key} must be sent as yourself and not as a system message`);
    if (next.createdAt > ctx.now + MAX_FUTURE_SKEW_MS) throw new Refused('bad_message', `message ${key} is dated more than ${MAX_FUTURE_SKEW_MS / 60_000} minutes in the future`);
    const since = ctx.memberSince();
    if (since !== null && next.createdAt < since - MAX_PAST_SKEW_MS) {
      throw new Refused('bad_message', `message ${key} is dated ${new Date(next.createdAt).toISOString()}, before you joined this room (${new Date(since).toISOString()}): check the device's clock`);
    }
    return;
  }
  if (mayEditMessage(ctx.actor(), existing)) {
    if (!sameIdentity(next, existing)) throw new Refused('bad_message', `an edit of message ${key} must keep its id, sender, type, creation time and thread`);
    // The sender deleting their own message writes a tombstone: that frees room.
    if (!isTombstone(next)) ctx.countGrowth();
    return;
  }
  // Deleting someone else's message replaces its value with a tombstone, next to a deletion record.
  if (sameIdentity(next, existing) && isTombstone(next) && mayDeleteMessage(ctx.actor(), existing)) {
    ctx.requireDeletion(key);
    return;
  }
  throw new Refused('forbidden', `only the sender may edit message ${key}`);
}

function judgeDeletion(ctx: SlotContext, key: string, value: Written): void {
  if (!isMessageId(key)) throw new Refused('bad_layout', `deletions key ${JSON.stringify(key)} is not a message id`);
  if (value !== DELETED) {
    const deletion = parsedValue(value, (v) => parseDeletionValue(v), `deletion of ${key}`);
    if (deletion.deletedBy !== ctx.userId) throw new Refused('forbidden', `the deletion of ${key} must be recorded as yourself`);
  }
  ctx.atEnd(() => {
    const message = ctx.finalMessage(key);
    if (!message) throw new Refused('unknown_message', `cannot delete message ${key}: the room has no such message`);
    if (!mayDeleteMessage(ctx.actor(), message)) throw new Refused('forbidden', `only the sender, an owner or an admin may delete message ${key}`);
  });
}

function judgeReaction(ctx: SlotContext, key: string, value: Written): void {
  const parsed = parseReactionKey(key);
  if (!parsed) throw new Refused('bad_layout', `reactions key ${JSON.stringify(key)} is not message|user|reaction`);
  if (!mayWriteUserKey(ctx.actor(), parsed.userId)) throw new Refused('forbidden', 'a user adds and removes only their own reactions');
  ctx.countReactionChange();
  if (value === DELETED) return;
  ctx.countGrowth();
  parsedValue(value, (v) => parseReactionValue(v), `reaction ${key}`);
  ctx.atEnd(() => {
    if (!ctx.finalMessage(parsed.messageId)) throw new Refused('unknown_message', `cannot react to message ${parsed.messageId}: the room has no such message`);
  });
}

function judgeRead(ctx: SlotContext, key: string, value: Written): void {
  const parsed = parseReadKey(key);
  if (!parsed) throw new Refused('bad_layout', `reads key ${JSON.stringify(key)} is not user|clientId`);
  if (!mayWriteUserKey(ctx.actor(), parsed.userId)) throw new Refused('forbidden', 'a user moves only their own read position');
  ctx.touchReads();
  if (value === DELETED) return;
  ctx.countGrowth();
  const position = parsedValue(value, (v) => parseReadValue(v), `read position ${key}`);
  const previous = parseReadValue(ctx.current('reads', key));
  if (previous !== null && position < previous) throw new Refused('bad_read_position', 'a read position never moves backwards');
  ctx.atEnd(() => {
    if (!ctx.segmentedHead()) {
      if (!ctx.finalMessage(position)) throw new Refused('bad_read_position', `read position ${position} names no message of the room`);
      return;
    }
    // A segmented head holds no messages: the position names one in a segment, so it may only
    // not lie ahead of the clock (one far ahead would pin the position, which never moves back).
    const at = uuidv7Time(position);
    if (at === null || at > ctx.now + MAX_FUTURE_SKEW_MS) throw new Refused('bad_read_position', `read position ${position} is dated ahead of the server's clock`);
  });
}

const WRITE_RULES: Record<RootName, (ctx: SlotContext, key: string, value: Written) => void> = {
  messages: judgeMessage,
  deletions: judgeDeletion,
  reactions: judgeReaction,
  reads: judgeRead,
};

/** Judges one new item: a write of `value` (or DELETED) at `slot` by the sender. Throws Refused. */
export function judgeWrite(ctx: SlotContext, slot: Slot, value: Written): void {
  WRITE_RULES[slot.root](ctx, slot.key, value);
}

/**
 * Judges the removal of a slot's live value by the delete set. A message value or deletion record
 * is only ever replaced, never removed: the update must write the same slot (that write was
 * judged already). Reaction and read keys name their owner.
 */
export function judgeRemoval(ctx: SlotContext, slot: Slot, replacedInUpdate: boolean): void {
  switch (slot.root) {
    case 'messages':
    case 'deletions':
      if (!replacedInUpdate) throw new Refused('forbidden', `${slot.root} entry ${slot.key} may be replaced but never removed`);
      return;
    case 'reactions':
      judgeReaction(ctx, slot.key, DELETED);
      return;
    case 'reads':
      judgeRead(ctx, slot.key, DELETED);
      return;
  }
}
