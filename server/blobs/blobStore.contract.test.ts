import { createHash, randomBytes, randomFillSync, randomUUID } from 'node:crypto';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { BlobStore } from './BlobStore.ts';
import { BlobStoreError } from './BlobStoreError.ts';
import { FsBlobStore } from './FsBlobStore.ts';
import { makeTempDir } from '../../test/support/tempDir.ts';

/*
 * What every BlobStore must do, run against each implementation (an S3 one would join the list
 * with a bucket prefix per test). The harness reaches under the interface only to count what the
 * backing storage holds, finished and unfinished, and to fake a crash's leftovers.
 */

interface Harness {
  store: BlobStore;
  /** Opens the same storage again, as the restart after a crash would. */
  reopen(): Promise<BlobStore>;
  /** Every object the backing storage holds: finished blobs and unfinished uploads (temp files, multipart uploads). */
  storage(): Promise<{ blobs: string[]; unfinished: string[] }>;
  /** Leaves an unfinished upload of `bytes` behind, as a crash in the middle of a put would. */
  plantUnfinished(bytes: Uint8Array): Promise<void>;
  dispose(): Promise<void>;
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => path.relative(dir, path.join(e.parentPath, e.name)));
}

const implementations: Array<[string, () => Promise<Harness>]> = [
  [
    'FsBlobStore',
    async () => {
      const tmp = makeTempDir();
      const dir = path.join(tmp.dir, 'blobs');
      const h: Harness = {
        store: await FsBlobStore.open(dir),
        async reopen() {
          h.store = await FsBlobStore.open(dir);
          return h.store;
        },
        async storage() {
          const files = await filesUnder(dir);
          return { blobs: files.filter((f) => !f.startsWith('tmp')), unfinished: files.filter((f) => f.startsWith('tmp')) };
        },
        async plantUnfinished(bytes) {
          await mkdir(path.join(dir, 'tmp'), { recursive: true });
          // Named like a key too, to show that nothing in tmp/ is ever taken for a blob.
          await writeFile(path.join(dir, 'tmp', `${randomUUID()}.part`), bytes);
          await writeFile(path.join(dir, 'tmp', sha256(bytes)), bytes);
        },
        async dispose() {
          tmp.remove();
        },
      };
      return h;
    },
  ],
];

const KiB = 1024;
const MiB = 1024 * KiB;
const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** `bytes` as a stream of `size`-byte chunks. */
async function* chunked(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.byteLength; i += size) yield bytes.subarray(i, i + size);
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(Buffer.from(part));
  return Buffer.concat(parts);
}

async function collect(keys: AsyncIterable<string>): Promise<string[]> {
  const all: string[] = [];
  for await (const key of keys) all.push(key);
  return all.sort();
}

/** A source of `chunks` chunks of 64 KiB that records how far it was pulled and whether it was closed. */
function trackedSource(chunks: number): { source: AsyncGenerator<Uint8Array>; pulled: () => number; closed: () => boolean } {
  let pulled = 0;
  let closed = false;
  async function* source(): AsyncGenerator<Uint8Array> {
    try {
      for (let i = 0; i < chunks; i++) {
        pulled++;
        yield randomBytes(64 * KiB);
      }
    } finally {
      closed = true;
    }
  }
  return { source: source(), pulled: () => pulled, closed: () => closed };
}

const expectBlobError = async (promise: Promise<unknown>, code: BlobStoreError['code']): Promise<void> => {
  const err: unknown = await promise.then(
    () => new Error('expected a rejection'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(BlobStoreError);
  expect((err as BlobStoreError).code).toBe(code);
};

describe.each(implementations)('BlobStore contract: %s', (_name, make) => {
  let h: Harness;
  afterEach(async () => h?.dispose());

  it('streams 5 MiB in 64 KiB chunks in and back out, keyed by its sha256, with its size and head', async () => {
    h = await make();
    const bytes = randomBytes(5 * MiB);
    const blob = await h.store.put(chunked(bytes, 64 * KiB), { maxBytes: 10 * MiB });
    expect(blob.key).toBe(sha256(bytes));
    expect(blob.size).toBe(bytes.byteLength);
    expect(Buffer.from(blob.head)).toEqual(bytes.subarray(0, 4096));
    expect(await h.store.stat(blob.key)).toEqual({ size: bytes.byteLength });
    const read = await h.store.get(blob.key);
    expect(read?.size).toBe(bytes.byteLength);
    expect((await readAll(read!.stream)).equals(bytes)).toBe(true);
    expect(await h.storage()).toMatchObject({ unfinished: [] });
  });

  it('takes a Readable too, a blob smaller than the head, and an empty blob', async () => {
    h = await make();
    const small = await h.store.put(Readable.from([Buffer.from('hello '), Buffer.from('world')]), { maxBytes: 100 });
    expect(small).toEqual({ key: sha256(Buffer.from('hello world')), size: 11, head: new Uint8Array(Buffer.from('hello world')) });
    const empty = await h.store.put(chunked(new Uint8Array(0), 1), { maxBytes: 0 });
    expect(empty).toEqual({ key: sha256(new Uint8Array(0)), size: 0, head: new Uint8Array(0) });
    expect((await readAll((await h.store.get(empty.key))!.stream)).byteLength).toBe(0);
  });

  it('stores the same bytes once, under one key, however they are chunked and however many puts race', async () => {
    h = await make();
    const bytes = randomBytes(1 * MiB + 17);
    const first = await h.store.put(chunked(bytes, 64 * KiB), { maxBytes: 2 * MiB });
    const again = await h.store.put(chunked(bytes, 1000), { maxBytes: 2 * MiB });
    const racing = await Promise.all([997, 4096, 65536, 100_000, bytes.byteLength].map((size) => h.store.put(chunked(bytes, size), { maxBytes: 2 * MiB })));
    for (const blob of [again, ...racing]) expect(blob).toEqual(first);
    expect(await h.storage()).toEqual({ blobs: [expect.stringContaining(first.key)], unfinished: [] });
    expect(await collect(h.store.keys())).toEqual([first.key]);
    expect((await readAll((await h.store.get(first.key))!.stream)).equals(bytes)).toBe(true);
  });

  it('stops reading an upload over maxBytes, rejects with too_large and keeps nothing of it', async () => {
    h = await make();
    const tracked = trackedSource(16);
    await expectBlobError(h.store.put(tracked.source, { maxBytes: 100_000 }), 'too_large');
    // The second chunk crosses the limit: nothing after it is pulled, and the source is closed.
    expect(tracked.pulled()).toBe(2);
    expect(tracked.closed()).toBe(true);
    const stream = Readable.from(trackedSource(16).source);
    await expectBlobError(h.store.put(stream, { maxBytes: 64 * KiB - 1 }), 'too_large');
    expect(stream.destroyed).toBe(true);
    expect(await h.storage()).toEqual({ blobs: [], unfinished: [] });
    expect(await collect(h.store.keys())).toEqual([]);
    // Exactly maxBytes is allowed.
    expect((await h.store.put(trackedSource(2).source, { maxBytes: 128 * KiB })).size).toBe(128 * KiB);
  });

  it('keeps nothing of an upload whose source fails, or yields text instead of bytes', async () => {
    h = await make();
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield randomBytes(64 * KiB);
      yield randomBytes(64 * KiB);
      throw new Error('client went away');
    }
    await expect(h.store.put(failing(), { maxBytes: MiB })).rejects.toThrow('client went away');
    await expect(h.store.put(Readable.from(['some text']), { maxBytes: MiB })).rejects.toThrow(TypeError);
    expect(await h.storage()).toEqual({ blobs: [], unfinished: [] });
  });

  it('reads ranges: the first bytes, the middle, the last byte; refuses a bad range', async () => {
    h = await make();
    const bytes = randomBytes(300_000);
    const { key } = await h.store.put(chunked(bytes, 50_000), { maxBytes: MiB });
    const range = async (start: number, end: number): Promise<Buffer> => {
      const read = await h.store.get(key, { start, end });
      expect(read?.size).toBe(bytes.byteLength);
      return readAll(read!.stream);
    };
    expect((await range(0, 9)).equals(bytes.subarray(0, 10))).toBe(true);
    expect((await range(1000, 200_000)).equals(bytes.subarray(1000, 200_001))).toBe(true);
    expect((await range(299_999, 299_999)).equals(bytes.subarray(299_999))).toBe(true);
    expect((await range(0, 299_999)).equals(bytes)).toBe(true);
    for (const bad of [
      { start: 5, end: 4 },
      { start: 0, end: 300_000 },
      { start: 300_000, end: 300_000 },
      { start: -1, end: 3 },
      { start: 1.5, end: 3 },
      { start: Number.NaN, end: 3 },
    ]) {
      await expectBlobError(h.store.get(key, bad), 'bad_range');
    }
    const empty = await h.store.put(chunked(new Uint8Array(0), 1), { maxBytes: 0 });
    await expectBlobError(h.store.get(empty.key, { start: 0, end: 0 }), 'bad_range');
  });

  it('answers null for an absent key, deletes, and lists every key', async () => {
    h = await make();
    const absent = sha256(Buffer.from('never stored'));
    expect(await h.store.get(absent)).toBeNull();
    expect(await h.store.get(absent, { start: 0, end: 0 })).toBeNull();
    expect(await h.store.stat(absent)).toBeNull();
    expect(await h.store.delete(absent)).toBe(false);
    const blobs = await Promise.all(['a', 'b', 'c'].map((s) => h.store.put(chunked(Buffer.from(s.repeat(5000)), 1000), { maxBytes: MiB })));
    expect(await collect(h.store.keys())).toEqual(blobs.map((b) => b.key).sort());
    expect(await h.store.delete(blobs[1]!.key)).toBe(true);
    expect(await h.store.delete(blobs[1]!.key)).toBe(false);
    expect(await h.store.get(blobs[1]!.key)).toBeNull();
    expect(await h.store.stat(blobs[1]!.key)).toBeNull();
    expect(await collect(h.store.keys())).toEqual([blobs[0]!.key, blobs[2]!.key].sort());
    // Stored again after a delete, it is back.
    const back = await h.store.put(chunked(Buffer.from('b'.repeat(5000)), 4096), { maxBytes: MiB });
    expect(back).toEqual(blobs[1]);
    expect(await h.store.stat(back.key)).toEqual({ size: 5000 });
  });

  it('refuses a key that is not a content address, so none can name a path outside the store', async () => {
    h = await make();
    const { key } = await h.store.put(chunked(Buffer.from('x'), 1), { maxBytes: 1 });
    for (const bad of ['../../etc/passwd', '', 'ab/cd', `${key.slice(0, 62)}..`, `${key}/../x`, `../${key.slice(3)}`, key.toUpperCase(), key.slice(1), `${key}0`]) {
      await expectBlobError(h.store.get(bad), 'bad_key');
      await expectBlobError(h.store.stat(bad), 'bad_key');
      await expectBlobError(h.store.delete(bad), 'bad_key');
    }
    expect(await h.store.stat(key)).toEqual({ size: 1 });
  });

  it('shows an upload in flight only as unfinished, never under its key', async () => {
    h = await make();
    const bytes = randomBytes(256 * KiB);
    let seen: Awaited<ReturnType<Harness['storage']>> | null = null;
    let statInFlight: unknown = 'not checked';
    async function* watched(): AsyncGenerator<Uint8Array> {
      yield bytes.subarray(0, 128 * KiB);
      seen = await h.storage();
      statInFlight = await h.store.stat(sha256(bytes));
      yield bytes.subarray(128 * KiB);
    }
    const blob = await h.store.put(watched(), { maxBytes: MiB });
    expect(seen).toMatchObject({ blobs: [], unfinished: [expect.any(String)] });
    expect(statInFlight).toBeNull();
    expect(await h.storage()).toEqual({ blobs: [expect.stringContaining(blob.key)], unfinished: [] });
  });

  it('sweeps the unfinished uploads a crash left when it opens, and never lists them', async () => {
    h = await make();
    const kept = await h.store.put(chunked(Buffer.from('kept'), 2), { maxBytes: 10 });
    const half = randomBytes(10_000);
    await h.plantUnfinished(half);
    expect((await h.storage()).unfinished.length).toBeGreaterThan(0);
    expect(await collect(h.store.keys())).toEqual([kept.key]);
    expect(await h.store.stat(sha256(half))).toBeNull();
    const store = await h.reopen();
    expect(await h.storage()).toEqual({ blobs: [expect.stringContaining(kept.key)], unfinished: [] });
    expect(await collect(store.keys())).toEqual([kept.key]);
    expect(await store.stat(kept.key)).toEqual({ size: 4 });
  });

  it('holds a chunk at a time: a 50 MiB upload made on the fly grows RSS by far less than 50 MiB', async () => {
    h = await make();
    // The source reuses four buffers, so it allocates nothing itself: any growth is the store's.
    // A store that kept the chunks' references to write later would also store the wrong bytes.
    const pool = Array.from({ length: 4 }, () => Buffer.alloc(64 * KiB));
    const expected = createHash('sha256');
    const chunks = (50 * MiB) / (64 * KiB);
    const before = process.memoryUsage.rss();
    let peak = before;
    async function* onTheFly(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < chunks; i++) {
        const chunk = randomFillSync(pool[i % pool.length]!);
        expected.update(chunk);
        peak = Math.max(peak, process.memoryUsage.rss());
        yield chunk;
      }
    }
    const blob = await h.store.put(onTheFly(), { maxBytes: 50 * MiB });
    peak = Math.max(peak, process.memoryUsage.rss());
    expect(blob.size).toBe(50 * MiB);
    expect(blob.key).toBe(expected.digest('hex'));
    expect((peak - before) / MiB).toBeLessThan(30);
    const readBack = createHash('sha256');
    for await (const part of (await h.store.get(blob.key))!.stream) readBack.update(part as Buffer);
    expect(readBack.digest('hex')).toBe(blob.key);
  });
});
