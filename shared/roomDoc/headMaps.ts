import type * as Y from 'yjs';
import { z } from 'zod';
import { UserIdSchema } from '../ids.ts';
import { KEY_SEPARATOR, MessageIdV7Schema, MillisSchema, isMessageId, parseReadKey } from './layout.ts';

/*
 * The root maps only a room's head holds (the room document itself while the room is not
 * segmented): what must be read without opening the segments that hold the messages
 * (docs/protocol.md, "Conversations"). A segment document never holds them (the validator refuses
 * writes to them there as bad_layout).
 */

export const HEAD_ROOT = {
  /** Message id -> PinValue. Owners and admins write and remove (permissions.ts, mayPin). */
  pins: 'pins',
  /** Thread root id -> ThreadSummary. The server is the only writer: derived, never written by clients. */
  threads: 'threads',
  /** `rootId|userId|clientId` -> the newest reply read on that device, like `reads` per thread. */
  threadReads: 'threadReads',
} as const;

export interface HeadMaps {
  readonly pins: Y.Map<unknown>;
  readonly threads: Y.Map<unknown>;
  readonly threadReads: Y.Map<unknown>;
}

export function headMaps(doc: Y.Doc): HeadMaps {
  return {
    pins: doc.getMap<unknown>(HEAD_ROOT.pins),
    threads: doc.getMap<unknown>(HEAD_ROOT.threads),
    threadReads: doc.getMap<unknown>(HEAD_ROOT.threadReads),
  };
}

/** Most messages pinned in one room at once (a pin list is read whole, with the room). */
export const MAX_PINS = 100;

export const PinValueSchema = z.strictObject({
  pinnedAt: MillisSchema,
  pinnedBy: UserIdSchema,
});
export type PinValue = z.infer<typeof PinValueSchema>;

/** Most thread participants a summary names (the most recent repliers first). */
export const MAX_THREAD_PARTICIPANTS = 20;

/**
 * A thread's summary under its root's id. `replyCount` counts replies not deleted; `participants`
 * are the distinct repliers, most recent first; `segments` the segment numbers holding replies
 * (empty while the room is not segmented), so a thread opens without scanning the room.
 */
export const ThreadSummarySchema = z.strictObject({
  replyCount: z.int().nonnegative(),
  lastReplyAt: MillisSchema.nullable(),
  participants: z.array(UserIdSchema).max(MAX_THREAD_PARTICIPANTS),
  segments: z.array(z.int().nonnegative()),
});
export type ThreadSummary = z.infer<typeof ThreadSummarySchema>;

export function parsePinValue(raw: unknown): PinValue | null {
  const parsed = PinValueSchema.safeParse(raw);
  return parsed.success ? parsed.data : null;
}

export function parseThreadSummary(raw: unknown): ThreadSummary | null {
  const parsed = ThreadSummarySchema.safeParse(raw);
  return parsed.success ? parsed.data : null;
}

export interface ThreadReadKey {
  readonly rootId: string;
  readonly userId: string;
  readonly clientId: number;
}

export const threadReadKey = ({ rootId, userId, clientId }: ThreadReadKey): string => [rootId, userId, String(clientId)].join(KEY_SEPARATOR);

/** `rootId|userId|clientId`: a root id in front of a `reads` key (layout.ts, parseReadKey). */
export function parseThreadReadKey(key: string): ThreadReadKey | null {
  const at = key.indexOf(KEY_SEPARATOR);
  const rootId = key.slice(0, at);
  const read = at < 0 || !isMessageId(rootId) ? null : parseReadKey(key.slice(at + 1));
  return read === null ? null : { rootId, ...read };
}

/** A thread read position's value: the id of the newest reply read on that device. */
export const ThreadReadValueSchema = MessageIdV7Schema;
