import { describe, expect, it } from 'vitest';
import type * as Y from 'yjs';
import { uuidv7 } from '../../shared/ids.ts';
import type { AttachmentRef } from '../../shared/models/attachment.ts';
import type { Actor } from '../../shared/roomDoc/actor.ts';
import { parseMessageEntry, roomMaps } from '../../shared/roomDoc/layout.ts';
import { createMessage, deleteMessage, editMessage } from '../../shared/roomDoc/messageOps.ts';
import { ALICE, BOB, alice, bob, carolAdmin } from '../../test/support/roomDocFixtures.ts';
import { Device, ValidatingServer } from '../../test/support/ValidatingServer.ts';

/*
 * The validator's attachment rule (docs/protocol.md, "Attachments"): a new message names only
 * uploads to this room by its sender, exactly as recorded; an edit keeps them; a deletion drops
 * them. Each forgery is refused with bad_attachment and leaves the server's document unchanged.
 */

const photo: AttachmentRef = { id: uuidv7(), name: 'cat.png', mimeType: 'image/png', size: 1234, width: 640, height: 480 };
const report: AttachmentRef = { id: uuidv7(), name: 'report.pdf', mimeType: 'application/pdf', size: 99 };
const bobsFile: AttachmentRef = { id: uuidv7(), name: 'bob.txt', mimeType: 'text/plain', size: 3 };

function room(isSegment = false) {
  const server = new ValidatingServer([alice, bob, carolAdmin]);
  server.isSegment = isSegment;
  server.uploads.set(photo.id, { uploaderId: ALICE, ref: photo });
  server.uploads.set(report.id, { uploaderId: ALICE, ref: report });
  server.uploads.set(bobsFile.id, { uploaderId: BOB, ref: bobsFile });
  return { server, a: new Device(alice, server), b: new Device(bob, server), c: new Device(carolAdmin, server) };
}

function send(device: Device, attachments: AttachmentRef[], type: 'image' | 'file' = 'image'): string {
  const result = createMessage(device.doc, device.actor, { type, content: 'look', attachments });
  if (!result.ok) throw new Error(result.message);
  expect(device.push()).toBeNull();
  return result.id;
}

function expectRefused(server: ValidatingServer, actor: Actor, change: (doc: Y.Doc) => void): void {
  const before = Buffer.from(server.state());
  const update = new Device(actor, server).capture(change);
  const refusal = server.submit(actor.userId, update);
  expect(refusal?.code, refusal?.reason).toBe('bad_attachment');
  expect(Buffer.from(server.state()).equals(before)).toBe(true);
}

const sending = (actor: Actor, attachments: AttachmentRef[]) => (doc: Y.Doc) => {
  const result = createMessage(doc, actor, { type: 'file', content: 'here', attachments });
  if (!result.ok) throw new Error(result.message);
};

for (const segment of [false, true]) {
  describe(segment ? 'in a segment document' : 'in a room document', () => {
    it('accepts the sender\'s own uploads to this room, as recorded', () => {
      const { server, a } = room(segment);
      const id = send(a, [photo, report], 'file');
      expect(parseMessageEntry(id, roomMaps(server.doc).messages.get(id))?.attachments).toEqual([photo, report]);
    });

    it('refuses an upload of another room, of another user, and forged fields', () => {
      const { server } = room(segment);
      expectRefused(server, alice, sending(alice, [{ ...photo, id: uuidv7() }]));
      expectRefused(server, alice, sending(alice, [bobsFile]));
      expectRefused(server, bob, sending(bob, [photo]));
      expectRefused(server, alice, sending(alice, [{ ...report, size: 1 }]));
      expectRefused(server, alice, sending(alice, [{ ...photo, name: 'dog.png' }]));
      expectRefused(server, alice, sending(alice, [{ ...photo, mimeType: 'text/html' }]));
      expectRefused(server, alice, sending(alice, [{ ...photo, width: 64 }]));
      const { width: _w, height: _h, ...noSize } = photo;
      expectRefused(server, alice, sending(alice, [noSize]));
      expectRefused(server, alice, sending(alice, [{ ...report, width: 10, height: 10 }]));
      // One good and one forged: the whole update is refused.
      expectRefused(server, alice, sending(alice, [report, { ...photo, size: 5 }]));
    });
  });
}

describe('edits and deletions', () => {
  it('an edit of the text keeps the attachments; changing or dropping them in an edit is refused', () => {
    const { server, a } = room();
    const id = send(a, [photo]);
    expect(editMessage(a.doc, alice, { id, content: 'a cat' }).ok).toBe(true);
    expect(a.push()).toBeNull();
    const value = (doc: Y.Doc) => parseMessageEntry(id, roomMaps(doc).messages.get(id))!;
    expectRefused(server, alice, (doc) => roomMaps(doc).messages.set(id, { ...value(doc), attachments: [photo, report] }));
    expectRefused(server, alice, (doc) => roomMaps(doc).messages.set(id, { ...value(doc), attachments: [report] }));
    expectRefused(server, alice, (doc) => {
      const { attachments: _gone, ...rest } = value(doc);
      roomMaps(doc).messages.set(id, { ...rest, content: 'no cat any more' });
    });
  });

  it('the sender and an admin may delete a message with attachments (the tombstone drops them)', () => {
    const { server, a, c } = room();
    const own = send(a, [photo]);
    const other = send(a, [report], 'file');
    expect(deleteMessage(a.doc, alice, { id: own }).ok).toBe(true);
    expect(a.push()).toBeNull();
    c.pull();
    expect(deleteMessage(c.doc, carolAdmin, { id: other }).ok).toBe(true);
    expect(c.push()).toBeNull();
    for (const id of [own, other]) expect(parseMessageEntry(id, roomMaps(server.doc).messages.get(id))?.attachments).toBeUndefined();
  });
});
