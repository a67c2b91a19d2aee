import * as Y from 'yjs';
import { createMessage } from '../../shared/roomDoc/messageOps.ts';
import { listMessages } from '../../shared/roomDoc/queries.ts';
import { roomMaps } from '../../shared/roomDoc/layout.ts';

/** A member's replica of a room: `write` adds a message and returns the update their client sends; `doc` is what they hold. */
export function writerReplica(userId: string): { doc: Y.Doc; write: (content: string) => Uint8Array } {
  const doc = new Y.Doc();
  roomMaps(doc);
  return {
    doc,
    write(content) {
      const before = Y.encodeStateVector(doc);
      createMessage(doc, { userId, role: 'member' }, { content });
      return Y.encodeStateAsUpdate(doc, before);
    },
  };
}

/** The contents of a document's messages, oldest first (up to 100). */
export const contentsOf = (doc: Y.Doc): string[] => listMessages(doc, { limit: 100 }).messages.map((m) => m.content);
