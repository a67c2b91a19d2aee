import * as Y from 'yjs';
import { docOfStored } from './docOfStored.ts';
import { roomMaps } from '../../shared/roomDoc/layout.ts';
import { heldAttachments } from '../../shared/roomDoc/heldAttachments.ts';
import type { StoredRoom } from './UpdateStore.ts';

/** What a stored document says about attachment references (docs/attachments.md, "Garbage collection"). */
export interface StoredAttachmentRefs {
  /** The state vector of the state read. */
  readonly stateVector: Uint8Array;
  /** Every message the document holds that is not deleted and names attachments, with their ids. */
  readonly held: ReadonlyArray<{ readonly id: string; readonly attachmentIds: readonly string[] }>;
  /** Those of the asked ids (messages with rows written from this document) the document still holds at all. */
  readonly present: readonly string[];
}

/**
 * A stored document's attachment references, as the AttachmentTracker would see them in it
 * loaded (the same rule: a tombstone or a deletion record holds nothing). Decodes the whole
 * document: the storage worker runs it (the server), or `parley gc-attachments` with the server
 * stopped. `recorded`: ids of messages whose rows name this document.
 */
export function storedAttachmentRefs(stored: StoredRoom, recorded: readonly string[]): StoredAttachmentRefs {
  const doc = docOfStored(stored);
  try {
    const maps = roomMaps(doc);
    const { messages } = maps;
    const held: Array<{ id: string; attachmentIds: string[] }> = [];
    messages.forEach((raw, id) => {
      // Cheap first: only a value with an attachments field is parsed.
      if (typeof raw !== 'object' || raw === null || !('attachments' in raw)) return;
      const attachments = heldAttachments(maps, id);
      if (attachments.length > 0) held.push({ id, attachmentIds: attachments.map((a) => a.id) });
    });
    return { stateVector: Y.encodeStateVector(doc), held, present: recorded.filter((id) => messages.has(id)) };
  } finally {
    doc.destroy();
  }
}
