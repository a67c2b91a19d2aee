import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FsBlobStore } from '../blobs/FsBlobStore.ts';
import { startWithRoom, type TwoMemberRoom } from '../../test/support/serverHarness.ts';
import { uploaded } from '../../test/support/attachmentUploads.ts';
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
});
