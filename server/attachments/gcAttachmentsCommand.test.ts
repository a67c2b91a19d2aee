import path from 'node:path';
import * as Y from 'yjs';
import { afterEach, describe, expect, it } from 'vitest';
import { DB_FILE_NAME } from '../config.ts';
import { FsBlobStore } from '../blobs/FsBlobStore.ts';
import { openDatabase } from '../storage/openDatabase.ts';
import { SqliteUpdateStore } from '../storage/SqliteUpdateStore.ts';
import { toAttachmentRef } from '../../shared/models/attachment.ts';
import { createMessage } from '../../shared/roomDoc/messageOps.ts';
import { segmentDocName } from '../../shared/roomDoc/segments.ts';
import { startWithRoom, type TwoMemberRoom } from '../../test/support/serverHarness.ts';
import { download, uploaded } from '../../test/support/attachmentUploads.ts';
import { runGcAttachmentsCommand } from './gcAttachmentsCommand.ts';

/* `parley gc-attachments` on a stopped server's data directory. */
let s: TwoMemberRoom;
afterEach(async () => {
  await s.t.dispose();
});

async function* bytes(text: string): AsyncGenerator<Uint8Array> {
  yield Buffer.from(text);
}

describe('parley gc-attachments', () => {
  it('removes uploads past the grace period and blobs no upload names', async () => {
    s = await startWithRoom();
    const { t, ana, roomId } = s;
    await uploaded(t, ana, roomId, Buffer.from('unused upload'));
    await t.stop();
    const store = await FsBlobStore.open(path.join(t.dataDir, 'blobs'));
    // What a crash between storing the bytes and recording the upload leaves.
    await store.put(bytes('an orphan'), { maxBytes: 100 });
    const lines: string[] = [];
    const code = await runGcAttachmentsCommand(['--data-dir', t.dataDir], { PARLEY_ATTACHMENT_GRACE_MS: '0' }, { log: (l) => lines.push(l), error: (l) => lines.push(l) });
    expect(code).toBe(0);
    expect(lines).toEqual(['removed 1 attachments, 1 of their blobs and 1 blobs no attachment named']);
    const left: string[] = [];
    for await (const key of store.keys()) left.push(key);
    expect(left).toEqual([]);
    expect(await runGcAttachmentsCommand(['--data-dir', t.dataDir], { PARLEY_ATTACHMENT_GRACE_MS: 'soon' }, { log: () => {}, error: () => {} })).toBe(2);
  });

  it('keeps an upload a message in a stored segment of its room names, though the server never wrote its row', async () => {
    s = await startWithRoom();
    const { t, ana, roomId } = s;
    const named = await uploaded(t, ana, roomId, Buffer.from('named in segment 0'));
    await uploaded(t, ana, roomId, Buffer.from('never sent'));
    await t.stop();
    // Segment 0 of the room holds a message naming the upload, and no row says so: what a server
    // killed before its tracker wrote the rows of a commit to that segment leaves.
    const db = openDatabase(path.join(t.dataDir, DB_FILE_NAME));
    const doc = new Y.Doc();
    expect(createMessage(doc, { userId: ana.id, role: 'owner' }, { type: 'file', content: '', attachments: [toAttachmentRef(named)] }).ok).toBe(true);
    new SqliteUpdateStore(db).append([{ roomId: segmentDocName(roomId, 0), update: Y.encodeStateAsUpdate(doc) }]);
    db.close();

    const lines: string[] = [];
    const code = await runGcAttachmentsCommand(['--data-dir', t.dataDir], { PARLEY_ATTACHMENT_GRACE_MS: '0' }, { log: (l) => lines.push(l), error: (l) => lines.push(l) });
    expect(code).toBe(0);
    expect(lines).toEqual(['removed 1 attachments, 1 of their blobs and 0 blobs no attachment named']);
    await t.restart();
    expect((await download(t, ana, named.url)).status).toBe(200);
  });
});
