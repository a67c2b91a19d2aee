import type { JsonObject } from '../json.ts';
import type { MessageType } from '../models/chatMessage.ts';
import type { DeletionValue, MessageValue } from './layout.ts';
import type { ReactionEntry } from './RoomIndex.ts';

/** A message as the client, the server and the command gateway read it. */
export interface MessageView {
  readonly id: string;
  readonly senderId: string | null;
  readonly type: MessageType;
  readonly content: string;
  readonly meta: JsonObject;
  readonly createdAt: number;
  readonly editedAt: number | null;
  readonly deletedAt: number | null;
  readonly deletedBy: string | null;
  /** Reaction -> user ids, by reaction time then user id; reactions in order of their first use. */
  readonly reactions: Record<string, string[]>;
}

const byTimeThenUser = (a: ReactionEntry, b: ReactionEntry): number =>
  a.at - b.at || (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0);

export function groupReactions(entries: Iterable<ReactionEntry>): Record<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const { reaction, userId } of [...entries].sort(byTimeThenUser)) {
    const users = groups.get(reaction);
    if (users) users.push(userId);
    else groups.set(reaction, [userId]);
  }
  // fromEntries defines own properties, so even an odd reaction name cannot reach a prototype.
  return Object.fromEntries(groups);
}

/**
 * A deletion wins over whatever the value says: a concurrent edit may have put content back into
 * the value before scrubDeleted runs. Reactions on a deleted message are hidden, as it cannot get
 * new ones. `meta` is copied because the cached value shares objects with the document's content.
 */
export function toMessageView(value: MessageValue, deletion: DeletionValue | undefined, reactions: Iterable<ReactionEntry>): MessageView {
  const deleted = deletion !== undefined;
  return {
    id: value.id,
    senderId: value.senderId,
    type: value.type,
    content: deleted ? '' : value.content,
    meta: deleted ? {} : structuredClone(value.meta),
    createdAt: value.createdAt,
    editedAt: value.editedAt ?? null,
    deletedAt: deletion?.deletedAt ?? null,
    deletedBy: deletion?.deletedBy ?? null,
    reactions: deleted ? {} : groupReactions(reactions),
  };
}
