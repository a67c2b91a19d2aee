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
import { mayCreateMessage, mayDeleteMessage, mayEditMessage, mayPin, mayWriteUserKey } from '../../shared/roomDoc/permissions.ts';
import { type HeadMaps, parsePinValue, parseThreadReadKey } from '../../shared/roomDoc/headMaps.ts';
import { metaProblem } from '../../shared/roomDoc/valueLimits.ts';
import { uuidv7Time } from '../../shared/ids.ts';
import { Refused } from './Refused.ts';
import { type UploadedAttachment, judgeAttachments } from './judgeAttachments.ts';

/** The root maps of the room document layout (and of a head), by name. */
export type RootName = keyof RoomMaps | keyof HeadMaps;

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
  /** Whether the document is one of a room's segments (which never holds the head maps). */
  readonly isSegment: boolean;
  /** Whether the user is an active member of the room now (mentions name members only). */
  isActiveMember(userId: string): boolean;
  /** The upload with this id to this room, as recorded (docs/attachments.md); null when there is none. */
  uploadedAttachment(id: string): UploadedAttachment | null;
  /** The message with this id as the update leaves it, or null (use in `atEnd` checks only). */
  finalMessage(id: string): MessageValue | null;
  /** Records that, by the end of the update, this message must carry a deletion record. */
  requireDeletion(messageId: string): void;
  /** Records that the sender's read position must be checked at the end of the update. */
  touchReads(): void;
  /** Records that the sender's read position in a thread must be checked at the end of the update. */
  touchThreadReads(rootId: string): void;
  /** Records that the number of pins must be checked at the end of the update. */
  touchPins(): void;
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
  judgeRelations(ctx, next, existing);
  judgeAttachments(ctx, next, existing);
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

/**
 * A message's relations (docs/protocol.md, "Conversations"). Mentions name active members; a
 * mention kept from the value before an edit stays valid after its user left. A parent or quote
 * this document holds must be a message here (a parent not itself a reply); one it cannot hold (a
 * segment's or a segmented head's) may only not be dated ahead of the clock.
 */
function judgeRelations(ctx: SlotContext, next: MessageValue, existing: MessageValue | null): void {
  if (next.mentionedUsers !== undefined) {
    const kept = new Set(existing?.mentionedUsers ?? []);
    for (const userId of next.mentionedUsers) {
      if (!kept.has(userId) && !ctx.isActiveMember(userId)) throw new Refused('bad_message', `message ${next.id} mentions ${userId}, who is not a member of this room`);
    }
  }
  if (existing !== null) return; // the thread is part of the identity (checked by the caller); a quote was judged when written
  const { parentId, quotedMessageId } = next;
  for (const [what, id] of [['reply to', parentId], ['quote', quotedMessageId]] as const) {
    if (id === undefined) continue;
    if (!fromThisDocument(ctx)) {
      const at = uuidv7Time(id);
      if (at === null || at > ctx.now + MAX_FUTURE_SKEW_MS) throw new Refused('bad_message', `message ${next.id} cannot ${what} ${id}: dated ahead of the server's clock`);
      continue;
    }
    ctx.atEnd(() => {
      const target = ctx.finalMessage(id);
      if (!target) throw new Refused('unknown_message', `message ${next.id} cannot ${what} message ${id}: the room has no such message`);
      if (what === 'reply to' && target.parentId !== undefined) throw new Refused('bad_message', `message ${id} is a reply: threads are one level deep`);
    });
  }
}

/** Whether every message of the room is in this document (a room not segmented). */
const fromThisDocument = (ctx: SlotContext): boolean => !ctx.isSegment && !ctx.segmentedHead();

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

/** A message a head-map key or value names: here, or (a segmented head) not dated ahead of the clock. */
function requireMessage(ctx: SlotContext, id: string, what: string): void {
  ctx.atEnd(() => {
    if (fromThisDocument(ctx)) {
      if (!ctx.finalMessage(id)) throw new Refused('unknown_message', `${what} ${id}: the room has no such message`);
      return;
    }
    const at = uuidv7Time(id);
    if (at === null || at > ctx.now + MAX_FUTURE_SKEW_MS) throw new Refused('unknown_message', `${what} ${id}: dated ahead of the server's clock`);
  });
}

function refuseInSegment(ctx: SlotContext, root: RootName): void {
  if (ctx.isSegment) throw new Refused('bad_layout', `a segment holds no ${root}: it belongs in the room's head`);
}

function judgePin(ctx: SlotContext, key: string, value: Written): void {
  refuseInSegment(ctx, 'pins');
  if (!isMessageId(key)) throw new Refused('bad_layout', `pins key ${JSON.stringify(key)} is not a message id`);
  if (!mayPin(ctx.actor())) throw new Refused('forbidden', 'only owners and admins pin and unpin messages');
  ctx.touchPins();
  if (value === DELETED) return;
  ctx.countGrowth();
  const pin = parsedValue(value, (v) => parsePinValue(v), `pin of ${key}`);
  if (pin.pinnedBy !== ctx.userId) throw new Refused('forbidden', `the pin of ${key} must be recorded as yourself`);
  requireMessage(ctx, key, 'cannot pin message');
}

function judgeThread(ctx: SlotContext): void {
  refuseInSegment(ctx, 'threads');
  throw new Refused('bad_layout', 'thread summaries are derived by the server; clients never write them');
}

function judgeThreadRead(ctx: SlotContext, key: string, value: Written): void {
  refuseInSegment(ctx, 'threadReads');
  const parsed = parseThreadReadKey(key);
  if (!parsed) throw new Refused('bad_layout', `threadReads key ${JSON.stringify(key)} is not root|user|clientId`);
  if (!mayWriteUserKey(ctx.actor(), parsed.userId)) throw new Refused('forbidden', 'a user moves only their own read position');
  ctx.touchThreadReads(parsed.rootId);
  if (value === DELETED) return;
  ctx.countGrowth();
  const position = parsedValue(value, (v) => parseReadValue(v), `thread read position ${key}`);
  const previous = parseReadValue(ctx.current('threadReads', key));
  if (previous !== null && position < previous) throw new Refused('bad_read_position', 'a read position never moves backwards');
  requireMessage(ctx, parsed.rootId, 'a thread read position names root');
  requireMessage(ctx, position, 'a thread read position names message');
}

const WRITE_RULES: Record<RootName, (ctx: SlotContext, key: string, value: Written) => void> = {
  messages: judgeMessage,
  deletions: judgeDeletion,
  reactions: judgeReaction,
  reads: judgeRead,
  pins: judgePin,
  threads: judgeThread,
  threadReads: judgeThreadRead,
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
    case 'pins':
      judgePin(ctx, slot.key, DELETED);
      return;
    case 'threads':
      judgeThread(ctx);
      return;
    case 'threadReads':
      judgeThreadRead(ctx, slot.key, DELETED);
      return;
  }
}
