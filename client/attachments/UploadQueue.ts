import { uuidv7 } from '../../shared/ids.ts';
import { toAttachmentRef, type AttachmentRef } from '../../shared/models/attachment.ts';
import { ApiError } from '../api/RestClient.ts';
import { ClientError } from '../errors/ClientError.ts';
import { Emitter } from '../events/Emitter.ts';
import type { LocalStore } from '../store/LocalStore.ts';
import { UploadRowSchema, type UploadRow } from '../store/storedRecords.ts';
import { backoffDelay, type BackoffOptions } from '../sync/backoff.ts';
import type { AttachmentTransfer, UploadSource } from './AttachmentTransfer.ts';

/*
 * Messages with attachments, from the moment the user sends them until they are in their room
 * document (docs/client.md, "Attachments"). A message that names a file refers to the server's
 * record of it, and the server refuses a reference to a file it does not hold; so the files go
 * first and the message follows. Until then the message and its files' bytes wait in the local
 * store, across reloads and offline spells, one message at a time in the order sent:
 *
 *   stored -> each file uploaded (its record noted, so a retry skips it) -> message written -> row deleted
 *
 * A network failure or a 5xx retries by itself with backoff, and at once when the connection
 * comes back. A refusal a retry alone cannot fix (413 too large, 403 not a member) stops that
 * message with `failure` until the user retries or discards it; the others go on.
 */

export interface SendWithFiles {
  readonly files: readonly UploadSource[];
  readonly content?: string;
  /** `image` when every file is an image (by its declared type), else `file`, unless given. */
  readonly type?: 'image' | 'file';
  readonly parentId?: string;
  readonly showInChannel?: boolean;
  readonly quotedMessageId?: string;
  readonly mentionedUsers?: readonly string[];
}

/** A message waiting for its files, as the app shows it (pending, with a progress bar). */
export interface PendingUpload {
  readonly messageId: string;
  readonly roomId: string;
  readonly type: 'image' | 'file';
  readonly content: string;
  readonly createdAt: number;
  readonly parentId: string | null;
  readonly files: ReadonlyArray<{ readonly name: string; readonly size: number; readonly declaredType: string; readonly uploaded: boolean }>;
  /** `uploading` while bytes are on their way; `waiting` for the network or its turn; `failed` until Retry. */
  readonly state: 'waiting' | 'uploading' | 'failed';
  /** Bytes of this message's files the server holds or has received so far, of `total`. */
  readonly sent: number;
  readonly total: number;
  readonly failure: { readonly code: string; readonly reason: string } | null;
  /** The last try could not reach the server (or it answered 5xx): it tries again by itself. */
  readonly retrying: boolean;
}

export interface UploadQueueDeps {
  readonly store: LocalStore;
  readonly transfer: Pick<AttachmentTransfer, 'upload'>;
  /** Writes the message (with its files' references) into its room document. */
  readonly commit: (row: UploadRow, attachments: readonly AttachmentRef[]) => Promise<void>;
  readonly now: () => number;
  readonly backoff?: BackoffOptions;
  readonly onError: (error: ClientError) => void;
}

export interface UploadQueueEvents {
  [name: string]: unknown;
  /** Pending uploads were added, progressed, failed or finished (the room id). */
  change: string;
}

const isImage = (file: UploadSource): boolean => file.declaredType.startsWith('image/');

/** Whether trying the same request again later may succeed. */
const retryable = (error: unknown): boolean =>
  !(error instanceof ApiError) ? error instanceof ClientError && error.code === 'network' : error.status >= 500 || error.status === 408 || error.status === 429;

export class UploadQueue {
  readonly #d: UploadQueueDeps;
  readonly #events = new Emitter<UploadQueueEvents>();
  #rows: UploadRow[] = [];
  readonly #progress = new Map<string, number>();
  /** Messages whose last try failed in a way a later try may not (network, 5xx). */
  readonly #retrying = new Set<string>();
  #active: string | null = null;
  #abort: AbortController | null = null;
  #running: Promise<void> | null = null;
  #again = false;
  #attempt = 0;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #closed = false;

  private constructor(deps: UploadQueueDeps, rows: UploadRow[]) {
    this.#d = deps;
    this.#rows = rows;
  }

  /** Loads what waited from the last session and starts on it. */
  static async open(deps: UploadQueueDeps): Promise<UploadQueue> {
    const queue = new UploadQueue(deps, await deps.store.getUploads());
    queue.wake();
    return queue;
  }

  on<K extends keyof UploadQueueEvents>(name: K, listener: (payload: UploadQueueEvents[K]) => void): () => void {
    return this.#events.on(name, listener);
  }

  /**
   * Sends a message with files: stored on the device before this resolves (so it survives a
   * reload), uploaded when the server is reachable, written to the room after its files.
   */
  async send(roomId: string, input: SendWithFiles): Promise<PendingUpload> {
    if (this.#closed) throw new ClientError('closed', 'the client is closed');
    if (input.files.length === 0) throw new ClientError('invalid_payload', 'no files to send');
    const now = this.#d.now();
    const row: UploadRow = {
      messageId: uuidv7(now),
      roomId,
      type: input.type ?? (input.files.every(isImage) ? 'image' : 'file'),
      content: input.content ?? '',
      ...(input.parentId === undefined ? {} : { parentId: input.parentId }),
      ...(input.showInChannel === true ? { showInChannel: true } : {}),
      ...(input.quotedMessageId === undefined ? {} : { quotedMessageId: input.quotedMessageId }),
      ...(input.mentionedUsers === undefined || input.mentionedUsers.length === 0 ? {} : { mentionedUsers: [...input.mentionedUsers] }),
      files: input.files.map((f) => ({ name: f.name, declaredType: f.declaredType, size: f.bytes.byteLength, uploaded: null })),
      failure: null,
      createdAt: now,
    };
    const parsed = UploadRowSchema.safeParse(row);
    if (!parsed.success) throw new ClientError('invalid_payload', parsed.error.issues[0]?.message ?? 'invalid upload');
    await this.#d.store.putUpload(parsed.data, input.files.map((f) => f.bytes));
    this.#rows.push(parsed.data);
    this.#changed(roomId);
    this.wake();
    return this.#view(parsed.data);
  }

  /** The room's messages waiting for their files, oldest first. */
  pending(roomId: string): PendingUpload[] {
    return this.#rows.filter((r) => r.roomId === roomId).map((r) => this.#view(r));
  }

  /** The bytes the user picked for file `index` of a pending message (to preview it), null when gone. */
  bytes(messageId: string, index: number): Promise<Uint8Array | null> {
    return this.#d.store.getUploadBytes(messageId, index);
  }

  /** Tries a failed message again. */
  async retry(messageId: string): Promise<void> {
    const row = this.#rows.find((r) => r.messageId === messageId);
    if (!row || row.failure === null) return;
    await this.#replace({ ...row, failure: null });
    this.#attempt = 0;
    this.wake();
  }

  /** Drops a waiting message and its files (an upload under way is cancelled). */
  async discard(messageId: string): Promise<void> {
    const row = this.#rows.find((r) => r.messageId === messageId);
    if (!row) return;
    if (this.#active === messageId) this.#abort?.abort();
    this.#rows = this.#rows.filter((r) => r !== row);
    this.#progress.delete(messageId);
    this.#retrying.delete(messageId);
    await this.#d.store.deleteUpload(messageId);
    this.#changed(row.roomId);
  }

  /** The server may be reachable again: go on now instead of waiting for the backoff. */
  wake(): void {
    if (this.#closed) return;
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
      this.#attempt = 0;
    }
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.#pump().finally(() => {
      this.#running = null;
      if (this.#again) {
        this.#again = false;
        this.wake();
      }
    });
  }

  /** Resolves once nothing is being worked on (tests; a closing client). */
  async idle(): Promise<void> {
    while (this.#running) await this.#running;
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#abort?.abort();
    await this.#running?.catch(() => undefined);
  }

  async #pump(): Promise<void> {
    for (;;) {
      const row = this.#rows.find((r) => r.failure === null);
      if (!row || this.#closed) return;
      try {
        await this.#finish(row);
        this.#retrying.delete(row.messageId);
        this.#attempt = 0;
      } catch (error) {
        if (this.#closed || !this.#rows.some((r) => r.messageId === row.messageId)) continue; // discarded meanwhile
        if (retryable(error)) {
          this.#retrying.add(row.messageId);
          const delay = backoffDelay(this.#attempt++, this.#d.backoff);
          this.#timer = setTimeout(() => {
            this.#timer = null;
            this.wake();
          }, delay);
          return;
        }
        const failure = error instanceof ApiError ? { code: error.apiCode, reason: error.message } : error instanceof ClientError ? { code: error.code, reason: error.message } : { code: 'unknown', reason: String(error) };
        const current = this.#rows.find((r) => r.messageId === row.messageId) ?? row;
        await this.#replace({ ...current, failure }).catch((e: unknown) => this.#report(e));
        if (!(error instanceof ClientError)) this.#report(error);
      } finally {
        this.#active = null;
        this.#abort = null;
        this.#progress.delete(row.messageId);
        this.#changed(row.roomId);
      }
    }
  }

  /** Uploads what is left of one message's files, then writes it. Throws what stopped it. */
  async #finish(start: UploadRow): Promise<void> {
    let row = start;
    this.#active = row.messageId;
    for (let index = 0; index < row.files.length; index++) {
      const file = row.files[index];
      if (!file || file.uploaded !== null) continue;
      const bytes = await this.#d.store.getUploadBytes(row.messageId, index);
      if (bytes === null) throw new ClientError('storage_failed', `the bytes of ${file.name} are gone from this device`);
      const before = row.files.slice(0, index).reduce((sum, f) => sum + f.size, 0);
      this.#abort = new AbortController();
      const uploaded = await this.#d.transfer.upload(
        row.roomId,
        { name: file.name, declaredType: file.declaredType, bytes },
        (sent) => {
          this.#progress.set(row.messageId, before + sent);
          this.#changed(row.roomId);
        },
        this.#abort.signal,
      );
      if (!this.#rows.some((r) => r.messageId === row.messageId)) return; // discarded while uploading
      row = { ...row, files: row.files.map((f, i) => (i === index ? { ...f, uploaded } : f)) };
      await this.#replace(row);
    }
    const refs = row.files.flatMap((f) => (f.uploaded ? [toAttachmentRef(f.uploaded)] : []));
    await this.#d.commit(row, refs);
    this.#rows = this.#rows.filter((r) => r.messageId !== row.messageId);
    await this.#d.store.deleteUpload(row.messageId);
  }

  async #replace(row: UploadRow): Promise<void> {
    await this.#d.store.putUpload(row);
    this.#rows = this.#rows.map((r) => (r.messageId === row.messageId ? row : r));
    this.#changed(row.roomId);
  }

  #view(row: UploadRow): PendingUpload {
    const total = row.files.reduce((sum, f) => sum + f.size, 0);
    const done = row.files.reduce((sum, f) => sum + (f.uploaded ? f.size : 0), 0);
    return {
      messageId: row.messageId,
      roomId: row.roomId,
      type: row.type,
      content: row.content,
      createdAt: row.createdAt,
      parentId: row.parentId ?? null,
      files: row.files.map((f) => ({ name: f.name, size: f.size, declaredType: f.declaredType, uploaded: f.uploaded !== null })),
      state: row.failure ? 'failed' : this.#active === row.messageId ? 'uploading' : 'waiting',
      sent: Math.max(done, this.#progress.get(row.messageId) ?? 0),
      total,
      failure: row.failure,
      retrying: this.#retrying.has(row.messageId) && row.failure === null,
    };
  }

  #changed(roomId: string): void {
    this.#events.emit('change', roomId);
  }

  #report(error: unknown): void {
    this.#d.onError(error instanceof ClientError ? error : new ClientError('storage_failed', String(error), error));
  }
}
