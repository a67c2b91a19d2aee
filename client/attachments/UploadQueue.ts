/*
 * Over 350 lines for a reason: the queue is one pipeline over its rows (upload, write, wait for
 * the server's acknowledgement, upload again after a refusal of the references), and its pump,
 * its rows in memory and their store writes keep one order (#replace, #drop) that a split would
 * spread over files.
 */
import { uuidv7 } from '../../shared/ids.ts';
import { toAttachmentRef, type AttachmentRef } from '../../shared/models/attachment.ts';
import { parseDocName } from '../../shared/roomDoc/segments.ts';
import { ApiError } from '../api/RestClient.ts';
import { ClientError } from '../errors/ClientError.ts';
import { Emitter } from '../events/Emitter.ts';
import type { MessageState } from '../room/RoomReplica.ts';
import type { LocalStore } from '../store/LocalStore.ts';
import { UploadRowSchema, type UploadRow } from '../store/storedRecords.ts';
import { backoffDelay, type BackoffOptions } from '../sync/backoff.ts';
import type { AttachmentTransfer, UploadSource } from './AttachmentTransfer.ts';

/*
 * Messages with attachments, from the moment the user sends them until the server holds them
 * (docs/client.md, "Attachments"). A message that names a file refers to the server's record of
 * it, and the server refuses a reference to a file it does not hold; so the files go first and
 * the message follows. The message and its files' bytes wait in the local store, across reloads
 * and offline spells, one message at a time in the order sent:
 *
 *   stored -> each file uploaded (its record noted, so a retry skips it) -> message written
 *     -> acknowledged by the server -> row and bytes deleted
 *
 * The bytes outlive the write because the server drops an upload no message names after its grace
 * period (PARLEY_ATTACHMENT_GRACE_MS): a device offline longer than that between the upload and
 * the message's sync has its message refused (`bad_attachment`). Then the files go again and the
 * message is rewritten under the same id with the new references, and the room's held writes are
 * sent again (at most MAX_REWRITES times, then it waits for Retry).
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
  /**
   * Writes the message (with its files' references) into its room document. With `rewrite`, the
   * message is there already and the server refused its references: it gets these instead, and
   * the room's writes held since that refusal are sent again.
   */
  readonly commit: (row: UploadRow, attachments: readonly AttachmentRef[], rewrite: boolean) => Promise<void>;
  readonly now: () => number;
  readonly backoff?: BackoffOptions;
  readonly onError: (error: ClientError) => void;
}

/**
 * A room document on this device as the queue watches it (a RoomReplica: the room's own document
 * or one of its segments): where the messages it wrote stand with the server.
 */
export interface DeliveryView {
  /** The document's name: a room id, or `<roomId>:<n>` for a segment. */
  readonly roomId: string;
  readonly closed: boolean;
  messageState(id: string): MessageState | null;
  /** The server moved the message out of this document after storing it (segments). */
  movedOut(id: string): boolean;
  on(name: 'states', listener: () => void): () => void;
}

/** How often a message whose references were refused is given new ones by itself before it waits for Retry. */
export const MAX_REWRITES = 3;

const SENT: MessageState = { state: 'sent' };

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
  /** Messages being written into their room right now (an acknowledgement may come before the write returns). */
  readonly #writing = new Set<string>();
  /** Room documents open on this device that may hold written messages, each with its listener's off (closed ones drop out). */
  readonly #views = new Map<DeliveryView, () => void>();
  /** Messages acknowledged whose row and bytes are being deleted from the store. */
  readonly #deleting = new Set<string>();
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

  /**
   * Loads what waited from the last session and starts on it. Messages written then and not
   * acknowledged yet wait for their room to be loaded (`follow`): the caller syncs those rooms
   * (`awaitingServer`), which also drops at once rows whose message the server already holds.
   */
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
      written: null,
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

  /** The room's messages waiting for their files, oldest first (once written, a message shows in its room instead). */
  pending(roomId: string): PendingUpload[] {
    return this.#rows.filter((r) => r.roomId === roomId && r.written === null && !this.#writing.has(r.messageId)).map((r) => this.#view(r));
  }

  /** Whether the device still holds the message's files: until the server acknowledged the message (or it was discarded) and they are deleted. */
  holds(messageId: string): boolean {
    return this.#deleting.has(messageId) || this.#rows.some((r) => r.messageId === messageId);
  }

  /** Rooms with messages written and not acknowledged yet (sync them to settle those: `follow`). */
  awaitingServer(): string[] {
    return [...new Set(this.#rows.filter((r) => r.written !== null).map((r) => r.roomId))];
  }

  /**
   * Watches a room document loaded on this device until it closes: a written message it reads as
   * `sent` (or moved on by the server) has its row and bytes deleted; one refused for its
   * references (`bad_attachment`) has its files uploaded again and is rewritten.
   */
  follow(view: DeliveryView): void {
    if (this.#closed || parseDocName(view.roomId) === null) return;
    if (this.#views.has(view)) return;
    this.#views.set(view, view.on('states', () => this.#check(view)));
    this.#check(view);
  }

  /**
   * Forgets a room's messages after the store dropped them with the room (LocalStore.deleteRoom:
   * the user left it, or discarded its local changes); an upload under way is cancelled.
   */
  forgetRoom(roomId: string): void {
    const gone = this.#rows.filter((r) => r.roomId === roomId);
    if (gone.length === 0) return;
    for (const row of gone) this.#forget(row.messageId);
    this.#changed(roomId);
  }

  /** The bytes the user picked for file `index` of a pending message (to preview it), null when gone. */
  bytes(messageId: string, index: number): Promise<Uint8Array | null> {
    return this.#d.store.getUploadBytes(messageId, index);
  }

  /** Tries a failed message again (a written one whose references were refused again: its files go once more). */
  async retry(messageId: string): Promise<void> {
    const row = this.#rows.find((r) => r.messageId === messageId);
    if (!row || row.failure === null) return;
    await this.#replace(row.written === null ? { ...row, failure: null } : { ...stale(row, 0), failure: null });
    this.#attempt = 0;
    this.wake();
  }

  /**
   * Drops a waiting message and its files (an upload under way is cancelled). A message already
   * written stays in its room; only the device's copy of its files goes.
   */
  async discard(messageId: string): Promise<void> {
    const row = this.#rows.find((r) => r.messageId === messageId);
    if (!row) return;
    this.#forget(messageId);
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
    for (const off of this.#views.values()) off();
    this.#views.clear();
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#abort?.abort();
    await this.#running?.catch(() => undefined);
  }

  async #pump(): Promise<void> {
    for (;;) {
      const row = this.#rows.find((r) => r.failure === null && (r.written === null || r.written.stale));
      if (!row || this.#closed) return;
      try {
        await this.#finish(row);
        this.#retrying.delete(row.messageId);
        this.#attempt = 0;
      } catch (error) {
        if (this.#closed || !this.#rows.some((r) => r.messageId === row.messageId)) continue; // discarded or acknowledged meanwhile
        if (row.written !== null && error instanceof ClientError && (error.code === 'deleted' || error.code === 'not_found')) {
          // The user deleted the refused message meanwhile (or discarded it): nothing left to send.
          await this.#drop(row.messageId);
          continue;
        }
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

  /** Uploads what is left of one message's files, then writes it (or rewrites it). Throws what stopped it. */
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
    // From here the message may be acknowledged (#check) before the write returns.
    this.#writing.add(row.messageId);
    try {
      await this.#d.commit(row, refs, row.written?.stale === true);
    } finally {
      this.#writing.delete(row.messageId);
    }
    const current = this.#rows.find((r) => r.messageId === row.messageId);
    if (!current) return; // acknowledged (or discarded) while it was written
    await this.#replace({ ...current, written: { stale: false, rewrites: current.written?.rewrites ?? 0 } });
    // What the server said while it was being written (a refusal) was set aside: look again.
    for (const view of [...this.#views.keys()]) this.#check(view);
  }

  /**
   * What a room document says of the messages written to it: acknowledged ones go; when the
   * server refused their references, every message of the room so refused gets its files
   * uploaded again. While a rewrite is under way in the room, a refusal may be of the references
   * it replaces: it waits, and the rewrite's own outcome follows.
   */
  #check(view: DeliveryView): void {
    if (view.closed || this.#closed) {
      this.#views.get(view)?.();
      this.#views.delete(view);
      return;
    }
    const roomId = parseDocName(view.roomId)?.roomId;
    const refused: UploadRow[] = [];
    for (const row of this.#rows) {
      if (row.roomId !== roomId || (row.written === null && !this.#writing.has(row.messageId))) continue;
      const state = view.messageState(row.messageId) ?? (view.movedOut(row.messageId) ? SENT : null);
      if (state?.state === 'sent') void this.#drop(row.messageId);
      else if (state?.state === 'rejected' && state.code === 'bad_attachment' && row.failure === null) refused.push(row);
    }
    const rewriting = this.#rows.some((r) => r.roomId === roomId && ((r.written?.stale === true && r.failure === null) || this.#writing.has(r.messageId)));
    if (refused.length === 0 || rewriting) return;
    for (const row of refused) {
      const rewrites = (row.written?.rewrites ?? 0) + 1;
      const next = rewrites > MAX_REWRITES ? { ...row, failure: { code: 'bad_attachment', reason: `the server refused the files of message ${row.messageId} again after ${MAX_REWRITES} new uploads` } } : stale(row, rewrites);
      this.#replace(next).catch((e: unknown) => this.#report(e));
    }
    this.wake();
  }

  /** The server holds the message (or the user dropped it): its row and bytes go ('change' once they are gone). */
  async #drop(messageId: string): Promise<void> {
    const row = this.#rows.find((r) => r.messageId === messageId);
    if (!row) return;
    this.#forget(messageId);
    this.#deleting.add(messageId);
    try {
      await this.#d.store.deleteUpload(messageId);
    } catch (error) {
      this.#report(error);
    } finally {
      this.#deleting.delete(messageId);
      this.#changed(row.roomId);
    }
  }

  /** Drops a message from memory (an upload under way for it is cancelled). */
  #forget(messageId: string): void {
    if (this.#active === messageId) this.#abort?.abort();
    this.#rows = this.#rows.filter((r) => r.messageId !== messageId);
    this.#progress.delete(messageId);
    this.#retrying.delete(messageId);
  }

  /**
   * Replaces a row, in memory at once (what #check reads next) and then in the store. A row no
   * longer held (acknowledged, discarded) stays gone: store writes go in the order of these
   * memory changes, so a deletion is never undone by a write issued before it.
   */
  async #replace(row: UploadRow): Promise<void> {
    if (!this.#rows.some((r) => r.messageId === row.messageId)) return;
    this.#rows = this.#rows.map((r) => (r.messageId === row.messageId ? row : r));
    this.#changed(row.roomId);
    await this.#d.store.putUpload(row);
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

/** A written message whose references the server refused: its files go again, then it is rewritten. */
const stale = (row: UploadRow, rewrites: number): UploadRow => ({
  ...row,
  files: row.files.map((f) => ({ ...f, uploaded: null })),
  written: { stale: true, rewrites },
});
