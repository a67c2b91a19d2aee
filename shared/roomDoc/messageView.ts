import { copyJson, type JsonObject } from '../json.ts';
import type { AttachmentRef } from '../models/attachment.ts';
import type { MessageType } from '../models/chatMessage.ts';
import type { PinValue, ThreadSummary } from './headMaps.ts';
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
  /** Relations (layout.ts, MESSAGE_RELATION_FIELDS); absent on an ordinary message. */
  readonly parentId?: string;
  readonly showInChannel?: true;
  readonly quotedMessageId?: string;
  readonly mentionedUsers?: string[];
  /** Files the message carries (layout.ts); absent when none, or when deleted. */
  readonly attachments?: AttachmentRef[];
  /** Derived from the head: the thread under this message (a root with replies). */
  readonly thread?: ThreadSummary;
  /** Derived from the head: who pinned it and when. */
  readonly pin?: PinValue;
  /** Derived at read time from the quoted message, when the reader holds it. */
  readonly quoted?: QuotedPreview;
}

/** Enough of a quoted message to render the quote, read from that message as it is now. */
export interface QuotedPreview {
  readonly id: string;
  readonly senderId: string | null;
  /** The first line of its text, at most QUOTE_PREVIEW_LENGTH characters; empty when deleted. */
  readonly text: string;
  readonly deleted: boolean;
}

export const QUOTE_PREVIEW_LENGTH = 200;

/** What the head and other messages add to a message's own view. */
export interface MessageExtras {
  readonly thread?: ThreadSummary | null;
  readonly pin?: PinValue | null;
  readonly quoted?: QuotedPreview | null;
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
export function toMessageView(
  value: MessageValue,
  deletion: DeletionValue | undefined,
  reactions: Iterable<ReactionEntry>,
  extras: MessageExtras = {},
): MessageView {
  const deleted = deletion !== undefined;
  const { thread, pin, quoted } = extras;
  return {
    id: value.id,
    senderId: value.senderId,
    type: value.type,
    content: deleted ? '' : value.content,
    meta: deleted ? {} : copyJson(value.meta),
    createdAt: value.createdAt,
    editedAt: value.editedAt ?? null,
    deletedAt: deletion?.deletedAt ?? null,
    deletedBy: deletion?.deletedBy ?? null,
    reactions: deleted ? {} : groupReactions(reactions),
    ...(value.parentId === undefined ? {} : { parentId: value.parentId }),
    ...(value.showInChannel === undefined ? {} : { showInChannel: value.showInChannel }),
    ...(deleted || value.quotedMessageId === undefined ? {} : { quotedMessageId: value.quotedMessageId }),
    ...(deleted || value.mentionedUsers === undefined ? {} : { mentionedUsers: [...value.mentionedUsers] }),
    ...(deleted || value.attachments === undefined ? {} : { attachments: value.attachments.map((a) => ({ ...a })) }),
    // A deleted root keeps its thread (replies to it still show); a deleted message loses its pin.
    ...(thread ? { thread } : {}),
    ...(pin && !deleted ? { pin } : {}),
    ...(quoted && !deleted && value.quotedMessageId !== undefined ? { quoted } : {}),
  };
}

/** The quote of `value` as a reply shows it. */
export function quotedPreviewOf(value: MessageValue, deleted: boolean): QuotedPreview {
  const firstLine = deleted ? '' : (value.content.split('\n', 1)[0] ?? '').slice(0, QUOTE_PREVIEW_LENGTH);
  return { id: value.id, senderId: value.senderId, text: firstLine, deleted };
}
