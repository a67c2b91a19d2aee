import { createHash, type Hash } from 'node:crypto';
import { z } from 'zod';
import { BlobStoreError } from './BlobStoreError.ts';
import type { BlobSource, PutOptions, StoredBlob } from './BlobStore.ts';

/** How many leading bytes a StoredBlob carries for type sniffing. */
export const HEAD_BYTES = 4096;

const PutOptionsSchema = z.object({ maxBytes: z.number().int().nonnegative() });

/**
 * What every store does to an upload's bytes on the way in, whatever it writes them to: the
 * size limit, the SHA-256 that becomes the key, and a copy of the head (a copy, because a
 * source may reuse its buffers). Kept apart from the stores so they all agree on these.
 */
export class BlobMeter {
  readonly maxBytes: number;
  #size = 0;
  readonly #hash: Hash = createHash('sha256');
  readonly #head = new Uint8Array(HEAD_BYTES);
  #headBytes = 0;

  constructor(opts: PutOptions) {
    this.maxBytes = PutOptionsSchema.parse(opts).maxBytes;
  }

  /**
   * Counts and hashes one chunk; throws BlobStoreError('too_large') before taking in a chunk
   * that would cross the limit, so no more than `maxBytes` is ever written anywhere.
   */
  take(chunk: Uint8Array): void {
    if (this.#size + chunk.byteLength > this.maxBytes) {
      throw new BlobStoreError('too_large', `upload is over the limit of ${this.maxBytes} bytes`);
    }
    this.#size += chunk.byteLength;
    this.#hash.update(chunk);
    if (this.#headBytes < HEAD_BYTES) {
      const part = chunk.subarray(0, HEAD_BYTES - this.#headBytes);
      this.#head.set(part, this.#headBytes);
      this.#headBytes += part.byteLength;
    }
  }

  /** The key, size and head of everything taken; call once, after the last chunk. */
  finish(): StoredBlob {
    return { key: this.#hash.digest('hex'), size: this.#size, head: this.#head.slice(0, this.#headBytes) };
  }
}

/**
 * The source's chunks as bytes. A text-mode stream (one with an encoding set) is a caller's bug:
 * its strings are not the uploaded bytes, so it throws instead of guessing an encoding.
 */
export async function* chunksOf(source: BlobSource): AsyncGenerator<Uint8Array> {
  for await (const chunk of source) {
    if (!(chunk instanceof Uint8Array)) throw new TypeError('a blob source must yield bytes (Uint8Array), not strings');
    yield chunk;
  }
}
