import * as Y from 'yjs';
import { ROOT } from './layout.ts';
import type { Slot, SplitOptions } from '../yjs/splitUpdate.ts';

/**
 * How to split a room document's updates: a message entry is the one others name (deletion
 * records, reactions and read positions must find it), so no chunk may end while it is empty.
 * `doc` is the sender's document, which holds every item the receiver already has.
 */
export function roomSplitOptions(doc: Y.Doc): SplitOptions {
  return {
    locate: (id) => locate(doc, id),
    guarded: (slot) => slot.root === ROOT.messages,
  };
}

function locate(doc: Y.Doc, id: Y.ID): Slot | null {
  let struct: Y.Item | Y.GC;
  try {
    struct = Y.getItem(doc.store, id);
  } catch {
    // Not in the document (collected into a GC range, or never there): unknown, so guarded.
    return null;
  }
  if (!(struct instanceof Y.Item) || struct.parentSub === null) return null;
  const parent = struct.parent;
  const root = parent instanceof Y.AbstractType && parent._item === null ? Y.findRootTypeKey(parent) : '';
  return { root, key: struct.parentSub };
}
