import { sameStateVector } from '../../shared/yjs/sameStateVector.ts';
import { roomOfDoc } from '../../shared/roomDoc/segments.ts';
import type { Logger } from '../log.ts';
import type { AsyncApi } from '../storage/AsyncApi.ts';
import type { AttachmentRepo } from '../storage/AttachmentRepo.ts';
import type { StoredAttachmentRefs } from '../storage/storedAttachmentRefs.ts';
import type { SettledRooms } from './Attachments.ts';
import { applyRefWrite, type RefWrite } from './AttachmentTracker.ts';
import type { ReadStoredRefs } from './ReadStoredRefs.ts';

export interface StoredReferenceScanDeps {
  readonly repo: AsyncApi<AttachmentRepo>;
  /** The stored documents of a room: its head and its segments. */
  readonly docNamesOf: (roomId: string) => readonly string[] | Promise<readonly string[]>;
  readonly read: ReadStoredRefs;
  /** Whether the document is loaded now: then the AttachmentTracker follows it. */
  readonly isLoaded: (docName: string) => boolean;
  /**
   * Runs a write of a stored document's rows among the tracker's own (AttachmentTracker.writing),
   * so that none of the tracker's is in flight meanwhile; without a tracker (`parley
   * gc-attachments`), at once.
   */
  readonly writing?: <R>(job: () => Promise<R>) => Promise<R>;
  readonly logger: Logger;
  readonly now?: () => number;
}

/**
 * Makes the reference rows hold every stored document of a room before garbage collection removes
 * one of its uploads (docs/attachments.md, "Garbage collection"). The AttachmentTracker writes a
 * commit's rows up to TRACK_DELAY_MS after it, and catches up on a document only when it loads;
 * after a crash in between, a committed message can name an upload that no row holds, in a room
 * nobody opens again.
 *
 * So each stored document of the room that is not loaded is read (`read`: the storage worker
 * decodes it, off the main thread) and its state vector compared with the one recorded when the
 * rows last held all of it (`attachment_tracked`); when they differ, its rows are brought to the
 * stored state exactly as the tracker would on load, and that state recorded. Each document is
 * read once per process: it changes only while loaded, and a load makes it due again. Loaded
 * documents are the tracker's, which the caller writes in the deletions' transaction. A room one
 * of whose documents loads after its settle() began is not settled for that pass (a document that
 * loaded and unloaded meanwhile may hold rows the tracker never wrote: it is read afresh on the
 * next pass), nor is one with a document that failed to read.
 */
export class StoredReferenceScan {
  readonly #d: StoredReferenceScanDeps;
  readonly #now: () => number;
  /** Documents whose rows held their stored state when last read, not loaded since. */
  readonly #settled = new Set<string>();
  /** Per settle() whose rooms are still in use (until released): the rooms a document of which loaded since it began. */
  readonly #watches = new Set<Set<string>>();
  /** The document being read, and whether it loaded meanwhile. */
  #reading: { readonly docName: string; loaded: boolean } | null = null;
  #closed = false;

  constructor(deps: StoredReferenceScanDeps) {
    this.#d = deps;
    this.#now = deps.now ?? Date.now;
  }

  /** A document loaded: it may change from now on, and the tracker follows it. */
  docLoaded(docName: string): void {
    this.#settled.delete(docName);
    if (this.#reading?.docName === docName) this.#reading.loaded = true;
    for (const loaded of this.#watches) loaded.add(roomOfDoc(docName));
  }

  /** Stops between documents (shutdown): rooms not read through are not settled. */
  close(): void {
    this.#closed = true;
  }

  /**
   * Reads the rooms' stored documents into the rows; resolves to the rooms whose every document is
   * accounted for, as long as none of their documents loads (release it when done).
   */
  async settle(roomIds: Iterable<string>): Promise<SettledRooms> {
    const loaded = new Set<string>();
    this.#watches.add(loaded);
    const settled = new Set<string>();
    try {
      for (const roomId of roomIds) if (await this.#settleRoom(roomId)) settled.add(roomId);
    } catch (err) {
      this.#watches.delete(loaded);
      throw err;
    }
    return {
      has: (roomId) => settled.has(roomId) && !loaded.has(roomId),
      release: () => this.#watches.delete(loaded),
    };
  }

  async #settleRoom(roomId: string): Promise<boolean> {
    let complete = true;
    for (const docName of await this.#d.docNamesOf(roomId)) {
      if (this.#closed) return false;
      if (this.#settled.has(docName) || this.#d.isLoaded(docName)) continue;
      try {
        if (!(await this.#settleDoc(roomId, docName))) complete = false;
      } catch (err) {
        this.#d.logger.error({ err, docName }, 'attachments: reading a stored document failed; its room keeps its uploads for now');
        complete = false;
      }
    }
    return complete;
  }

  async #settleDoc(roomId: string, docName: string): Promise<boolean> {
    const reading = { docName, loaded: false };
    this.#reading = reading;
    try {
      return await this.#readDoc(roomId, docName, reading);
    } finally {
      this.#reading = null;
    }
  }

  async #readDoc(roomId: string, docName: string, reading: { readonly loaded: boolean }): Promise<boolean> {
    const { repo } = this.#d;
    const recorded = await repo.messagesOf(docName);
    const refs = await this.#d.read(docName, recorded);
    const tracked = await repo.trackedState(docName);
    if (tracked !== null && sameStateVector(tracked, refs.stateVector)) {
      this.#settled.add(docName);
      return true;
    }
    const writes = this.#writesOf(roomId, docName, recorded, refs);
    const writing = this.#d.writing ?? (<R>(job: () => Promise<R>): Promise<R> => job());
    const wrote = await writing(() =>
      repo.transaction(async (tx) => {
        // Loaded since it was read (and maybe gone again): the tracker's rows are newer than this read.
        if (reading.loaded) return false;
        for (const write of writes) await applyRefWrite(tx, write);
        return true;
      }),
    );
    if (!wrote) return false;
    this.#d.logger.info({ docName, messages: refs.held.length }, 'attachments: references of a stored document brought up to its stored state');
    this.#settled.add(docName);
    return true;
  }

  /** As the tracker handles each message of a document loaded whole (AttachmentTracker.ts). */
  #writesOf(roomId: string, docName: string, recorded: readonly string[], refs: StoredAttachmentRefs): RefWrite[] {
    const at = this.#now();
    const writes: RefWrite[] = [];
    const held = new Set<string>();
    for (const message of refs.held) {
      held.add(message.id);
      writes.push({ kind: 'set', roomId, docName, messageId: message.id, attachmentIds: message.attachmentIds, at });
    }
    const present = new Set(refs.present);
    for (const id of recorded) {
      // Deleted here: a deletion wins wherever its rows were written. Gone from here (moved to
      // another document of the room): only the rows written from here go; its new document's stay.
      if (!held.has(id)) writes.push({ kind: 'drop', docName, messageId: id, at, anyDocument: present.has(id) });
    }
    writes.push({ kind: 'record', docName, stateVector: refs.stateVector });
    return writes;
  }
}
