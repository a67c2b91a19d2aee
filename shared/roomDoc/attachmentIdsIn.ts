import * as Y from 'yjs';

/** The bytes of the `attachments` key, as a Yjs update holds a map value's key. */
const KEY = new TextEncoder().encode('attachments');

/**
 * Whether the bytes hold the `attachments` key anywhere: most updates do not, and are then never
 * decoded (a byte scan, no allocation). True does not mean they name an attachment.
 */
export function mayNameAttachments(bytes: Uint8Array): boolean {
  const first = KEY[0];
  const last = bytes.length - KEY.length;
  outer: for (let i = bytes.indexOf(first ?? 0); i >= 0 && i <= last; i = bytes.indexOf(first ?? 0, i + 1)) {
    for (let k = 1; k < KEY.length; k++) if (bytes[i + k] !== KEY[k]) continue outer;
    return true;
  }
  return false;
}

/**
 * The attachment ids the messages written by a Yjs update name (a message is a map value holding
 * `attachments: [{ id, … }]`, shared/roomDoc/layout.ts), read from the update's structs without
 * applying it. A superset is fine (what it returns is only looked up); malformed updates give none
 * (the validator refuses them anyway).
 */
export function attachmentIdsIn(update: Uint8Array): string[] {
  if (!mayNameAttachments(update)) return [];
  let structs;
  try {
    structs = Y.decodeUpdate(update).structs;
  } catch {
    return [];
  }
  const ids = new Set<string>();
  for (const struct of structs) {
    if (!(struct instanceof Y.Item) || !(struct.content instanceof Y.ContentAny)) continue;
    for (const value of struct.content.arr) {
      if (typeof value !== 'object' || value === null || !('attachments' in value) || !Array.isArray(value.attachments)) continue;
      for (const ref of value.attachments as unknown[]) {
        if (typeof ref === 'object' && ref !== null && 'id' in ref && typeof ref.id === 'string') ids.add(ref.id);
      }
    }
  }
  return [...ids];
}
