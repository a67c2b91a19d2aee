import type * as Y from 'yjs';
import { HEAD_ROOT, type PinValue, parsePinValue } from './headMaps.ts';
import { isMessageId } from './layout.ts';
import type { MessageView } from './messageView.ts';

/*
 * Reading a room's pins (docs/protocol.md, "Conversations": the head's `pins` map, one key per
 * message). Kept apart from pinOps.ts so that queries.ts can fill a view's pin without an import
 * cycle. A pin of a deleted message is still a key, but every reader shows the message unpinned.
 */

/** The pin recorded for a message in the room's head, or null (malformed values are skipped). */
export function pinOf(head: Y.Doc, messageId: string): PinValue | null {
  const raw = head.getMap<unknown>(HEAD_ROOT.pins).get(messageId);
  return raw === undefined ? null : parsePinValue(raw);
}

const counts = new WeakMap<Y.Map<unknown>, { n: number }>();

/**
 * Keys in the head's `pins` map, kept by an observer: `Y.Map.size` walks every key the map ever
 * held (an unpinned key stays in it, deleted), which made a pin's size check grow with the pins
 * ever made (measured: 99 µs a pin in the validator after 10,000 pins and unpins, 2 ms at p99).
 */
export function pinCount(head: Y.Doc): number {
  const pins = head.getMap<unknown>(HEAD_ROOT.pins);
  let count = counts.get(pins);
  if (!count) {
    const kept = { n: pins.size };
    counts.set(pins, (count = kept));
    pins.observe((event) => {
      for (const change of event.changes.keys.values()) {
        if (change.action === 'add') kept.n++;
        else if (change.action === 'delete') kept.n--;
      }
    });
  }
  return count.n;
}

/** Every well-formed pin in the head: newest pin first (then by message id), as a pinned list shows them. */
export function pinsOf(head: Y.Doc): Array<{ readonly messageId: string; readonly pin: PinValue }> {
  const pins: Array<{ messageId: string; pin: PinValue }> = [];
  head.getMap<unknown>(HEAD_ROOT.pins).forEach((raw, messageId) => {
    const pin = isMessageId(messageId) ? parsePinValue(raw) : null;
    if (pin) pins.push({ messageId, pin });
  });
  return pins.sort((a, b) => b.pin.pinnedAt - a.pin.pinnedAt || (a.messageId < b.messageId ? -1 : a.messageId > b.messageId ? 1 : 0));
}

/**
 * The view with its pin as the head says now: views read from a segment (which holds no pins), or
 * from a recent page (a picture of an earlier moment), get it here. A deleted message shows unpinned.
 */
export function withPin(view: MessageView, head: Y.Doc): MessageView {
  const pin = view.deletedAt === null ? pinOf(head, view.id) : null;
  if (pin === null && view.pin === undefined) return view;
  if (pin !== null && view.pin !== undefined && pin.pinnedAt === view.pin.pinnedAt && pin.pinnedBy === view.pin.pinnedBy) return view;
  const { pin: _stale, ...rest } = view;
  return pin === null ? rest : { ...rest, pin };
}
