import { z } from 'zod';
import { ReactionSchema } from '../../../shared/models/chatMessage.ts';

/** The one-click reactions a new user starts with, and that fill the row behind their recent ones. */
export const QUICK_REACTIONS = ['👍', '❤️', '😂', '🎉', '😮', '😢', '🙏', '👀'] as const;

/** The quick row keeps one length, so it never grows past the message's hover toolbar. */
export const QUICK_ROW_LENGTH = QUICK_REACTIONS.length;

const KEY = 'parley:recent-reactions';

/** What is kept in localStorage: the reactions last used on this device, newest first. */
const RecentReactionsSchema = z.object({
  version: z.literal(1),
  recent: z.array(ReactionSchema).max(QUICK_ROW_LENGTH),
});

/** The reactions used last on this device, newest first; anything unreadable counts as none. */
export function loadRecentReactions(storage: Storage = localStorage): string[] {
  let json: unknown = null;
  try {
    json = JSON.parse(storage.getItem(KEY) ?? 'null');
  } catch {
    // Not JSON: treated like any other unreadable value below.
  }
  const parsed = RecentReactionsSchema.safeParse(json);
  return parsed.success ? parsed.data.recent : [];
}

/** Puts `reaction` first among the recent ones; returns the new list. */
export function rememberReaction(reaction: string, storage: Storage = localStorage): string[] {
  if (!ReactionSchema.safeParse(reaction).success) return loadRecentReactions(storage);
  const recent = [reaction, ...loadRecentReactions(storage).filter((r) => r !== reaction)].slice(0, QUICK_ROW_LENGTH);
  try {
    storage.setItem(KEY, JSON.stringify({ version: 1, recent }));
  } catch {
    // A full or disabled storage only costs the ordering of the quick row.
  }
  return recent;
}

/** Signing out with `forget`: the next person on this device must not see what this one used. */
export function forgetRecentReactions(storage: Storage = localStorage): void {
  storage.removeItem(KEY);
}

/** The quick row: the recent reactions first, then the defaults they do not already include. */
export function quickReactions(recent: readonly string[]): string[] {
  return [...new Set([...recent, ...QUICK_REACTIONS])].slice(0, QUICK_ROW_LENGTH);
}
