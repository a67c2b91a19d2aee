import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FsBlobStore } from './FsBlobStore.ts';
import { makeTempDir } from '../../test/support/tempDir.ts';

/* What only the filesystem store promises: its layout on disk (docs/attachments.md). */

describe('FsBlobStore', () => {
  let tmp: ReturnType<typeof makeTempDir> | undefined;
  afterEach(() => tmp?.remove());

  it('creates its directory and keeps each blob at ab/cd/<sha256>, beside an empty tmp/', async () => {
    tmp = makeTempDir();
    const dir = path.join(tmp.dir, 'data', 'blobs');
    const store = await FsBlobStore.open(dir);
    const bytes = Buffer.from('attachment bytes');
    async function* once(): AsyncGenerator<Uint8Array> {
      yield bytes;
    }
    const { key } = await store.put(once(), { maxBytes: 100 });
    expect(key).toBe(createHash('sha256').update(bytes).digest('hex'));
    const file = path.join(dir, key.slice(0, 2), key.slice(2, 4), key);
    expect((await readFile(file)).equals(bytes)).toBe(true);
    expect((await stat(path.join(dir, 'tmp'))).isDirectory()).toBe(true);
  });
});
