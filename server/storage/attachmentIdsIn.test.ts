import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { uuidv4 } from '../../shared/ids.ts';
import { roomMaps } from '../../shared/roomDoc/layout.ts';
import { createMessage } from '../../shared/roomDoc/messageOps.ts';
import { attachmentIdsIn, mayNameAttachments } from './attachmentIdsIn.ts';

const write = (doc: Y.Doc, fn: () => void): Uint8Array => {
  const before = Y.encodeStateVector(doc);
  fn();
  return Y.encodeStateAsUpdate(doc, before);
};

describe('attachmentIdsIn', () => {
  it("finds the ids of the attachments an update's new messages name, and none in other updates", () => {
    const doc = new Y.Doc();
    roomMaps(doc);
    const user = { userId: uuidv4(), role: 'member' as const };
    const [a, b] = [uuidv4(), uuidv4()];
    const file = (id: string) => ({ id, name: `${id}.txt`, mimeType: 'text/plain', size: 3 });
    const withFiles = write(doc, () => createMessage(doc, user, { type: 'file', content: '', attachments: [file(a), file(b)] }));
    expect(attachmentIdsIn(withFiles).sort()).toEqual([a, b].sort());
    const plain = write(doc, () => createMessage(doc, user, { content: 'attachments: none here' }));
    expect(attachmentIdsIn(plain)).toEqual([]);
    expect(attachmentIdsIn(new Uint8Array([1, 2, 3, 250]))).toEqual([]);
    // The byte scan that spares most updates a decode: the key's bytes, wherever they are.
    expect(mayNameAttachments(withFiles)).toBe(true);
    expect(mayNameAttachments(plain)).toBe(true);
    expect(mayNameAttachments(write(doc, () => createMessage(doc, user, { content: 'no files' })))).toBe(false);
    expect(mayNameAttachments(new TextEncoder().encode('attachment'))).toBe(false);
    expect(mayNameAttachments(new TextEncoder().encode('xxattachments'))).toBe(true);
  });
});
