import type * as Y from 'yjs';
import { type Actor, assertActor } from './actor.ts';
import { clockNow } from './clockNow.ts';
import { isStorableReaction, parseDeletionValue, parseMessageEntry, parseReactionValue, reactionKey, roomMaps } from './layout.ts';
import { type Failure, type Result, failure } from './result.ts';
import { roomIndex } from './RoomIndex.ts';
import { MAX_REACTIONS_PER_PERSON_PER_MESSAGE } from './valueLimits.ts';

export interface ReactionInput {
  readonly messageId: string;
  readonly reaction: string;
  /** Used when adding: the stored reaction time. */
  readonly now?: number;
}

export type ReactionResult = Result<'invalid_payload' | 'not_found' | 'deleted'>;

/*
 * One flat key per (message, user, reaction), written only by that user: no two writers ever race
 * for a key, and no nested map is ever created lazily (two concurrent ones at a key: one vanishes).
 */

export function addReaction(doc: Y.Doc, actor: Actor, input: ReactionInput, origin?: unknown): ReactionResult {
  assertActor(actor);
  const now = clockNow(input.now);
  const problem = targetProblem(doc, input);
  if (problem) return problem;
  const { reactions } = roomMaps(doc);
  const key = reactionKey({ messageId: input.messageId, userId: actor.userId, reaction: input.reaction });
  // Adding twice keeps the first time, which orders the reaction list.
  if (parseReactionValue(reactions.get(key)) !== null) return { ok: true };
  if (reactionKeysOf(doc, input.messageId, actor.userId).length >= MAX_REACTIONS_PER_PERSON_PER_MESSAGE) {
    return failure('invalid_payload', `a person may have at most ${MAX_REACTIONS_PER_PERSON_PER_MESSAGE} different reactions on one message`);
  }
  doc.transact(() => reactions.set(key, now), origin);
  return { ok: true };
}

export function removeReaction(doc: Y.Doc, actor: Actor, input: ReactionInput, origin?: unknown): ReactionResult {
  assertActor(actor);
  const problem = targetProblem(doc, input);
  if (problem) return problem;
  const { reactions } = roomMaps(doc);
  const key = reactionKey({ messageId: input.messageId, userId: actor.userId, reaction: input.reaction });
  if (reactions.has(key)) doc.transact(() => reactions.delete(key), origin);
  return { ok: true };
}

function targetProblem(doc: Y.Doc, { messageId, reaction }: ReactionInput): Failure<'invalid_payload' | 'not_found' | 'deleted'> | null {
  if (!isStorableReaction(reaction)) return failure('invalid_payload', `invalid reaction ${JSON.stringify(reaction)}`);
  const { messages, deletions } = roomMaps(doc);
  if (!parseMessageEntry(messageId, messages.get(messageId))) return failure('not_found', `no message ${messageId}`);
  if (parseDeletionValue(deletions.get(messageId))) return failure('deleted', `message ${messageId} is deleted`);
  return null;
}

/** The keys of `userId`'s reactions on the message, as the document holds them now. */
export function reactionKeysOf(doc: Y.Doc, messageId: string, userId: string): string[] {
  const keys: string[] = [];
  for (const entry of roomIndex(doc).reactions(messageId)) {
    if (entry.userId === userId) keys.push(reactionKey({ messageId, userId, reaction: entry.reaction }));
  }
  return keys;
}
