import { randomUUID } from 'node:crypto';
import { mkdir, open, opendir, readdir, rename, rm, stat, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { BlobMeter, chunksOf } from './BlobMeter.ts';
import { checkRangeWithin, parseBlobRange, type BlobRange } from './blobRange.ts';
import { BlobKeySchema, parseBlobKey } from './blobKey.ts';
import type { BlobRead, BlobSource, BlobStore, PutOptions, StoredBlob } from './BlobStore.ts';

/** Unfinished uploads live here, never under a blob's name; the directory is emptied on open. */
const TMP = 'tmp';
const FAN_OUT = /^[0-9a-f]{2}$/;

const isCode = (err: unknown, ...codes: string[]): boolean =>
  err instanceof Error && 'code' in err && typeof err.code === 'string' && codes.includes(err.code);

/**
 * Makes a directory's entries (a rename, a new subdirectory) survive a power loss: on Linux a
 * rename is durable only once its directory is fsync'd. Platforms that cannot open a directory
 * (Windows) make it durable themselves, so those errors are ignored.
 */
async function syncDir(dir: string): Promise<void> {
  let handle: FileHandle;
  try {
    handle = await open(dir, 'r');
  } catch (err) {
    if (isCode(err, 'EISDIR', 'EPERM', 'EACCES')) return;
    throw err;
  }
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Writes all of `chunk` (a write may take less than asked). */
async function writeAll(handle: FileHandle, chunk: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < chunk.byteLength) {
    const { bytesWritten } = await handle.write(chunk, offset, chunk.byteLength - offset);
    offset += bytesWritten;
  }
}

/**
 * The embedded BlobStore: one file per blob under a directory (the server passes
 * `<dataDir>/blobs`), named by its sha256 and fanned out as `ab/cd/<sha256>` so no directory
 * grows past a few hundred entries. An upload is written to a uniquely named file in `tmp/`,
 * fsync'd, and renamed into place: a rename on one filesystem is atomic, so a blob's name only
 * ever shows complete, verified bytes, and a crash leaves at worst a file in `tmp/`, which the
 * next `open` deletes. Concurrent puts of the same bytes each rename a complete copy over the
 * same name; the last one wins and the content is the same. Fan-out directories are never
 * removed, so a put's rename never races a delete's rmdir.
 *
 * One process owns a directory: opening sweeps `tmp/`, which would delete another live
 * process's unfinished uploads.
 */
export class FsBlobStore implements BlobStore {
  readonly dir: string;
  readonly #tmp: string;

  private constructor(dir: string) {
    this.dir = dir;
    this.#tmp = path.join(dir, TMP);
  }

  /** Opens (creating) the store under `dir` and deletes every unfinished upload a crash left. */
  static async open(dir: string): Promise<FsBlobStore> {
    const store = new FsBlobStore(path.resolve(dir));
    await mkdir(store.#tmp, { recursive: true });
    for (const name of await readdir(store.#tmp)) await rm(path.join(store.#tmp, name), { recursive: true, force: true });
    return store;
  }

  /** Where the blob `key` (already checked) lives. */
  #pathOf(key: string): string {
    return path.join(this.dir, key.slice(0, 2), key.slice(2, 4), key);
  }

  async put(source: BlobSource, opts: PutOptions): Promise<StoredBlob> {
    const meter = new BlobMeter(opts);
    const tmpFile = path.join(this.#tmp, `${randomUUID()}.part`);
    let handle: FileHandle | null = await open(tmpFile, 'wx');
    try {
      // One chunk at a time: the next is pulled only once this one is on its way to disk.
      for await (const chunk of chunksOf(source)) {
        meter.take(chunk);
        await writeAll(handle, chunk);
      }
      await handle.sync();
      await handle.close();
      handle = null;
      const blob = meter.finish();
      const target = this.#pathOf(blob.key);
      const created = await mkdir(path.dirname(target), { recursive: true });
      await rename(tmpFile, target);
      await syncDir(path.dirname(target));
      if (created !== undefined) {
        await syncDir(path.dirname(path.dirname(target)));
        await syncDir(this.dir);
      }
      return blob;
    } catch (err) {
      if (handle) await handle.close().catch(() => {});
      await rm(tmpFile, { force: true });
      throw err;
    }
  }

  async get(key: string, range?: BlobRange): Promise<BlobRead | null> {
    const file = this.#pathOf(parseBlobKey(key));
    const wanted = range === undefined ? null : parseBlobRange(range);
    let handle: FileHandle;
    try {
      handle = await open(file, 'r');
    } catch (err) {
      if (isCode(err, 'ENOENT')) return null;
      throw err;
    }
    // Size and bytes come from the one open file, so a delete racing this read cannot mix them.
    try {
      const { size } = await handle.stat();
      if (wanted) checkRangeWithin(wanted, size);
      const stream = handle.createReadStream(wanted ? { start: wanted.start, end: wanted.end } : {});
      return { stream, size };
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  async stat(key: string): Promise<{ size: number } | null> {
    try {
      const s = await stat(this.#pathOf(parseBlobKey(key)));
      return s.isFile() ? { size: s.size } : null;
    } catch (err) {
      if (isCode(err, 'ENOENT')) return null;
      throw err;
    }
  }

  async delete(key: string): Promise<boolean> {
    try {
      await unlink(this.#pathOf(parseBlobKey(key)));
      return true;
    } catch (err) {
      if (isCode(err, 'ENOENT')) return false;
      throw err;
    }
  }

  /** Walks the fan-out directories one at a time; names that are not keys (and `tmp/`) are skipped. */
  async *keys(): AsyncGenerator<string> {
    for await (const top of await opendir(this.dir)) {
      if (!top.isDirectory() || !FAN_OUT.test(top.name)) continue;
      for await (const mid of await opendir(path.join(this.dir, top.name))) {
        if (!mid.isDirectory() || !FAN_OUT.test(mid.name)) continue;
        for await (const leaf of await opendir(path.join(this.dir, top.name, mid.name))) {
          const key = leaf.name;
          if (leaf.isFile() && BlobKeySchema.safeParse(key).success && key.startsWith(top.name + mid.name)) yield key;
        }
      }
    }
  }
}
