import type * as Y from 'yjs';
import { type MessageValue, parseDeletionValue, parseMessageEntry, parseReactionValue, reactionKey, roomMaps, tombstoneOf } from '../../shared/roomDoc/layout.ts';
import { roomIndex } from '../../shared/roomDoc/RoomIndex.ts';
import { jsonEqual } from '../../shared/roomDoc/jsonEqual.ts';

export interface MoveOutcome {
  /** Messages whose state reached the target. */
  readonly moved: number;
  /** Message values dropped because the target holds that id from another sender (a forged id). */
  readonly dropped: number;
}

/**
 * Moves what `source` holds about each message in `ids` (its value, its deletion record, its
 * reactions) into `target`, then deletes it from `source`: one transaction on each document, both
 * in the same turn, so one group commit holds the move. What the target holds already wins where
 * the two disagree, by the target's rules:
 *
 * - a value for an id the target holds from another sender is dropped (a forgery: only the sender
 *   writes their message, and the target is where that rule was judged);
 * - a value the target holds is replaced only by a later edit (editedAt), so a stale copy never
 *   undoes an edit;
 * - a deletion on either side wins: the target keeps (or gets) the record and a tombstone;
 * - reactions are added where the target lacks them (a reaction's key names its reactor).
 */
export function moveMessages(source: Y.Doc, target: Y.Doc, ids: readonly string[], origin: unknown): MoveOutcome {
  const from = roomMaps(source);
  const to = roomMaps(target);
  const index = roomIndex(source);
  const reactionKeys = new Map(ids.map((id) => [id, [...index.reactions(id)].map(({ userId, reaction }) => reactionKey({ messageId: id, userId, reaction }))]));
  let moved = 0;
  let dropped = 0;
  target.transact(() => {
    for (const id of ids) {
      const value = parseMessageEntry(id, from.messages.get(id));
      const held = parseMessageEntry(id, to.messages.get(id));
      const deletion = parseDeletionValue(to.deletions.get(id)) ?? parseDeletionValue(from.deletions.get(id));
      if (value && held && value.senderId !== held.senderId) {
        dropped++;
        continue;
      }
      const next: MessageValue | null = value && (!held || editTime(value) > editTime(held)) ? value : held;
      if (next) {
        const stored = deletion ? tombstoneOf(next) : next;
        if (!held || !jsonEqual(stored, held)) to.messages.set(id, structuredClone(stored));
      }
      if (deletion && !to.deletions.has(id)) to.deletions.set(id, { ...deletion });
      for (const key of reactionKeys.get(id) ?? []) {
        const at = parseReactionValue(from.reactions.get(key));
        if (at !== null && !to.reactions.has(key)) to.reactions.set(key, at);
      }
      moved++;
    }
  }, origin);
  source.transact(() => {
    for (const id of ids) {
      if (from.messages.has(id)) from.messages.delete(id);
      if (from.deletions.has(id)) from.deletions.delete(id);
      for (const key of reactionKeys.get(id) ?? []) from.reactions.delete(key);
    }
  }, origin);
  return { moved, dropped };
}

/** When a value was last written by its sender: an edit, or its creation. */
const editTime = (value: MessageValue): number => value.editedAt ?? value.createdAt;
