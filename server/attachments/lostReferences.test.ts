import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { toAttachmentRef, type Attachment } from '../../shared/models/attachment.ts';
import { createMessage } from '../../shared/roomDoc/messageOps.ts';
import { CommandClient, answerOk, sendCommand } from '../../test/support/commandClient.ts';
import { startWithRoom, type TwoMemberRoom } from '../../test/support/serverHarness.ts';
import { download, uploaded } from '../../test/support/attachmentUploads.ts';

/*
 * Reference rows a crash lost (docs/attachments.md, "Garbage collection"): the AttachmentTracker
 * writes a commit's rows up to 100 ms after it, so a kill -9 in between leaves a committed message
 * naming an upload that no row holds. That on-disk state is made here exactly, and without a
 * race: the tracker is closed before the message is sent, so the commit is stored and the tracker
 * writes nothing after it (no row, no new `attachment_tracked` state), as if the process had died
 * before its timer fired. The room is then never loaded again, and a pass at a clock a year on
 * must still keep the upload.
 */
let s: TwoMemberRoom;
afterEach(async () => {
  await s.t.dispose();
});

const YEAR_MS = 365 * 86_400_000;

async function blobPath(a: Attachment): Promise<string> {
  const key = (await download(s.t, s.ana, a.url)).headers.get('etag')!.slice(1, -1);
  return path.join(s.t.dataDir, 'blobs', key.slice(0, 2), key.slice(2, 4), key);
}

const refRows = (attachmentId: string): number =>
  s.t.server.db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM attachment_refs WHERE attachment_id = ?').get(attachmentId)!.n;

/** Sends the message with the tracker closed: stored, and no reference row written for it (a crash in the tracker's window). */
async function sendUntracked(content: string, attachment: Attachment): Promise<void> {
  const c = await CommandClient.connect(s.t, s.ana);
  await s.t.server.attachmentTracker.close();
  await sendCommand(c, s.roomId, content, { message_type: 'file', attachments: [{ id: attachment.id }] });
  await c.close();
}

describe('garbage collection after a crash lost reference rows', () => {
  it('keeps an upload a committed message names though no row holds it, and still removes an unused one', async () => {
    s = await startWithRoom({ PARLEY_ATTACHMENT_GRACE_MS: '1000' });
    const { t, ana, roomId } = s;
    const named = await uploaded(t, ana, roomId, Buffer.from('named by a message'), { name: 'named.txt' });
    const unused = await uploaded(t, ana, roomId, Buffer.from('never sent'), { name: 'unused.txt' });
    const namedBlob = await blobPath(named);
    const unusedBlob = await blobPath(unused);
    await sendUntracked('the file', named);
    await t.stop();
    await t.restart();
    expect(refRows(named.id)).toBe(0);

    expect(await t.server.attachmentSweeper.sweep(Date.now() + YEAR_MS)).toEqual({ records: 1, blobs: 1 });
    // The room was read through the storage worker, not loaded.
    expect(t.server.registry.get(roomId)).toBeUndefined();
    expect(refRows(named.id)).toBe(1);
    const kept = await download(t, ana, named.url);
    expect(kept.status).toBe(200);
    expect(kept.bytes.toString()).toBe('named by a message');
    expect(existsSync(namedBlob)).toBe(true);
    expect((await download(t, ana, unused.url)).status).toBe(404);
    expect(existsSync(unusedBlob)).toBe(false);
    // Deleting the message still frees it: the rows written from the stored document are the tracker's from then on.
    const c = await CommandClient.connect(t, ana);
    const history = answerOk(await c.request('fetch_history', { room_id: roomId, limit: 5 }), 'fetch_history') as { messages: Array<{ id: string }> };
    answerOk(await c.request('delete_message', { room_id: roomId, message_id: history.messages[0]!.id }), 'delete_message');
    await c.close();
    expect(await t.server.attachmentSweeper.sweep(Date.now() + YEAR_MS)).toEqual({ records: 1, blobs: 1 });
    expect(existsSync(namedBlob)).toBe(false);
  });

  it('keeps a released upload that a message sent again names, when the crash lost that message\'s row', async () => {
    s = await startWithRoom({ PARLEY_ATTACHMENT_GRACE_MS: '1000' });
    const { t, ana, roomId } = s;
    const reused = await uploaded(t, ana, roomId, Buffer.from('sent twice'), { name: 'twice.txt' });
    const c = await CommandClient.connect(t, ana);
    const first = await sendCommand(c, roomId, 'first', { message_type: 'file', attachments: [{ id: reused.id }] });
    answerOk(await c.request('delete_message', { room_id: roomId, message_id: first.id }), 'delete_message');
    await c.close();
    // The deletion's rows are written: the upload is released, collectable from now on.
    await t.server.attachmentTracker.flush();
    expect(refRows(reused.id)).toBe(0);
    await sendUntracked('again', reused);
    await t.stop();
    await t.restart();

    expect(await t.server.attachmentSweeper.sweep(Date.now() + YEAR_MS)).toEqual({ records: 0, blobs: 0 });
    expect((await download(t, ana, reused.url)).status).toBe(200);
    expect(existsSync(await blobPath(reused))).toBe(true);
  });

  it('keeps an upload a message applied a moment ago names, though its commit (and the tracker\'s turn) is still to come', async () => {
    s = await startWithRoom({ PARLEY_ATTACHMENT_GRACE_MS: '1000' });
    const { t, ana, roomId } = s;
    const named = await uploaded(t, ana, roomId, Buffer.from('named just now'));
    const room = t.server.registry.open(roomId);
    expect(createMessage(room.doc, { userId: ana.id, role: 'owner' }, { type: 'file', content: '', attachments: [toAttachmentRef(named)] }).ok).toBe(true);
    // The group commit is a setImmediate away; the pass reaches its deletions before it.
    expect(await t.server.attachmentSweeper.sweep(Date.now() + YEAR_MS)).toEqual({ records: 0, blobs: 0 });
    expect((await download(t, ana, named.url)).status).toBe(200);
  });
});
