import { localDayKey } from './formatTime.ts';
/** What the message list needs of a message to lay it out. */
export interface RowInput {
  readonly id: string;
  readonly sender_id: string | null;
  readonly message_type: string;
  readonly created_at: string;
}

export interface MessageLayout<M extends RowInput> {
  readonly message: M;
  /** A day separator goes above this message (the label), or null. */
  readonly day: string | null;
  /** First of a run by one sender within GROUP_GAP_MS: shows avatar and name. */
  readonly groupStart: boolean;
}

/** Messages by one sender this close together share one header, like every chat app does. */
export const GROUP_GAP_MS = 5 * 60_000;

/**
 * Lays out a page of messages (display order): day separators and sender groups. `previous` is
 * the message just before the page, so a page boundary does not start a fresh group by itself.
 */
export function layoutMessages<M extends RowInput>(messages: readonly M[], dayLabel: (iso: string) => string, previous: RowInput | null = null): MessageLayout<M>[] {
  let before = previous;
  let beforeDay = previous === null ? null : localDayKey(previous.created_at);
  return messages.map((message) => {
    // Days compare as numbers; only a new day is given its label (a label is a date format).
    const dayKey = localDayKey(message.created_at);
    const newDay = before === null || beforeDay !== dayKey;
    const groupStart =
      newDay ||
      before === null ||
      message.message_type === 'system' ||
      before.message_type === 'system' ||
      before.sender_id !== message.sender_id ||
      Date.parse(message.created_at) - Date.parse(before.created_at) > GROUP_GAP_MS;
    before = message;
    beforeDay = dayKey;
    return { message, day: newDay ? dayLabel(message.created_at) : null, groupStart };
  });
}

/**
 * Read receipts: for each message id, the users who read up to there (each user appears once, at
 * the newest visible message they read that is not their own: once they reply, their receipt
 * stays under what they answered instead of vanishing under their own message). A position on a
 * message outside the page is moved to the newest visible message at or before it.
 * `senders[i]` is the sender of `visibleIds[i]` (omitted: nobody's messages are skipped).
 */
export function readReceipts(
  positions: ReadonlyMap<string, string>,
  visibleIds: readonly string[],
  exclude: ReadonlySet<string>,
  senders: readonly (string | null)[] = [],
): Map<string, string[]> {
  const receipts = new Map<string, string[]>();
  const first = visibleIds[0];
  if (first === undefined) return receipts;
  for (const [userId, position] of positions) {
    if (exclude.has(userId) || position < first) continue;
    let index = -1;
    for (let lo = 0, hi = visibleIds.length - 1; lo <= hi; ) {
      const mid = (lo + hi) >> 1;
      if ((visibleIds[mid] as string) <= position) {
        index = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    while (index >= 0 && senders[index] === userId) index--;
    const at = visibleIds[index];
    if (at === undefined) continue;
    const list = receipts.get(at) ?? [];
    list.push(userId);
    receipts.set(at, list);
  }
  return receipts;
}
