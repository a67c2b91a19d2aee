import { z } from 'zod';
import { UserIdSchema } from '../ids.ts';
import { ReactionSchema } from '../models/chatMessage.ts';
import { PinValueSchema, ThreadSummarySchema } from '../roomDoc/headMaps.ts';
import { MESSAGE_FIELDS, MESSAGE_RELATION_FIELDS, MessageIdV7Schema, MillisSchema } from '../roomDoc/layout.ts';
import { QUOTE_PREVIEW_LENGTH, type MessageView } from '../roomDoc/messageView.ts';

/*
 * The body of a `recent` frame (frames.ts; docs/protocol.md, "Large rooms: segments"): a
 * segmented room's newest messages as the server read them, sent on the head's channel with its
 * greeting (before its sync step 2), so that a device can show them before the head and the
 * segments holding them have synced. It is a picture of one moment, never merged into a
 * document: the segments stay the truth.
 */

/** Messages a recent page holds (a screen of them). */
export const RECENT_PAGE_SIZE = 50;
/** More than this in one page is refused. */
const MAX_RECENT_PAGE = 2 * RECENT_PAGE_SIZE;

export const MessageViewSchema = z.strictObject({
  ...MESSAGE_FIELDS,
  editedAt: MillisSchema.nullable(),
  deletedAt: MillisSchema.nullable(),
  deletedBy: UserIdSchema.nullable(),
  reactions: z.record(ReactionSchema, z.array(UserIdSchema)),
  ...MESSAGE_RELATION_FIELDS,
  thread: ThreadSummarySchema.optional(),
  pin: PinValueSchema.optional(),
  quoted: z
    .strictObject({ id: MessageIdV7Schema, senderId: UserIdSchema.nullable(), text: z.string().max(QUOTE_PREVIEW_LENGTH), deleted: z.boolean() })
    .optional(),
}) satisfies z.ZodType<MessageView>;

/** Oldest first, each id once. */
export const RecentMessagesSchema = z
  .array(MessageViewSchema)
  .max(MAX_RECENT_PAGE)
  .refine((messages) => messages.every((m, i) => i === 0 || (messages[i - 1]?.id ?? '') < m.id), { message: 'messages must be in id order, each once' });

const RecentPageSchema = z.strictObject({ messages: RecentMessagesSchema });

export function encodeRecentPage(messages: readonly MessageView[]): string {
  return JSON.stringify({ messages });
}

/** The page's messages, or why the text is not a recent page. */
export function parseRecentPage(text: string): { ok: true; messages: MessageView[] } | { ok: false; reason: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'a recent page that is not JSON' };
  }
  const parsed = RecentPageSchema.safeParse(json);
  if (!parsed.success) return { ok: false, reason: `a malformed recent page: ${parsed.error.issues[0]?.message ?? 'invalid'}` };
  return { ok: true, messages: parsed.data.messages };
}
