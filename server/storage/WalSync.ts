import fs from 'node:fs';

/**
 * Makes what is committed to a SQLite database in WAL mode durable, by fdatasync of its `-wal`
 * file: what `synchronous = FULL` does inside every commit, done instead after commits made with
 * `synchronous = NORMAL` (withoutFsync), either on libuv's thread pool (`sync`, the main thread
 * goes on serving) or at once (`syncNow`). In WAL mode every committed transaction is in the WAL
 * file until a checkpoint copies it to the database, and SQLite fsyncs the WAL before any
 * checkpoint, so a sync that starts after a commit returned makes that commit survive a power
 * loss, as FULL would.
 *
 * The WAL file is opened once and kept: SQLite deletes it only when the last connection closes,
 * and the server's own connection stays open while this is in use.
 */
export class WalSync {
  readonly #path: string;
  #fd: number | null = null;

  constructor(dbFile: string) {
    this.#path = `${dbFile}-wal`;
  }

  /** Resolves once everything committed before the call is on disk. */
  sync(): Promise<void> {
    const fd = this.#open();
    if (fd === null) return Promise.resolve();
    return new Promise((resolve, reject) => fs.fdatasync(fd, (err) => (err ? reject(err) : resolve())));
  }

  /** The same, synchronously (shutdown, and a room about to be unloaded or compacted). */
  syncNow(): void {
    const fd = this.#open();
    if (fd !== null) fs.fdatasyncSync(fd);
  }

  close(): void {
    if (this.#fd !== null) fs.closeSync(this.#fd);
    this.#fd = null;
  }

  /** The WAL's descriptor; null while there is no WAL file (nothing was committed in WAL mode). */
  #open(): number | null {
    if (this.#fd !== null) return this.#fd;
    try {
      this.#fd = fs.openSync(this.#path, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    return this.#fd;
  }
}
