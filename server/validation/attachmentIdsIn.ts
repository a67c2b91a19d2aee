import * as Y from 'yjs';

/**
 * The attachment ids the messages written by a Yjs update name (a message is a map value holding
 * `attachments: [{ id, … }]`, shared/roomDoc/layout.ts), read from the update's structs without
 * applying it. A superset is fine (what it returns is only looked up); malformed updates give none
 * (the validator refuses them anyway).
 */
export function attachmentIdsIn(update: Uint8Array): string[] {
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
