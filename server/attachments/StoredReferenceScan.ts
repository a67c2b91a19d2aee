import { sameStateVector } from '../../shared/yjs/sameStateVector.ts';
import type { Logger } from '../log.ts';
import type { AttachmentRepo } from '../storage/AttachmentRepo.ts';
import type { StoredAttachmentRefs } from '../storage/storedAttachmentRefs.ts';
import type { ReadStoredRefs } from './ReadStoredRefs.ts';

export interface StoredReferenceScanDeps {
  readonly repo: AttachmentRepo;
  /** The stored documents of a room: its head and its segments. */
  readonly docNamesOf: (roomId: string) => readonly string[];
  readonly read: ReadStoredRefs;
  /** Whether the document is loaded now: then the AttachmentTracker follows it. */
  readonly isLoaded: (docName: string) => boolean;
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
 * documents are the tracker's, which the caller flushes before deleting anything. A document that
 * loads while being read is the tracker's too; one that loaded and unloaded meanwhile leaves its
 * room unsettled for this pass (it is read afresh on the next), as does a failed read.
 */
export class StoredReferenceScan {
  readonly #d: StoredReferenceScanDeps;
  readonly #now: () => number;
  /** Documents whose rows held their stored state when last read, not loaded since. */
  readonly #settled = new Set<string>();
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
  }

  /** Stops between documents (shutdown): rooms not read through are not settled. */
  close(): void {
    this.#closed = true;
  }

  /** Reads the rooms' stored documents into the rows; resolves to the rooms whose every document is accounted for. */
  async settle(roomIds: Iterable<string>): Promise<Set<string>> {
    const settled = new Set<string>();
    for (const roomId of roomIds) if (await this.#settleRoom(roomId)) settled.add(roomId);
    return settled;
  }

  async #settleRoom(roomId: string): Promise<boolean> {
    let complete = true;
    for (const docName of this.#d.docNamesOf(roomId)) {
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
    const { repo } = this.#d;
    const reading = { docName, loaded: false };
    this.#reading = reading;
    try {
      const recorded = repo.messagesOf(docName);
      const refs = await this.#d.read(docName, recorded);
      // Loaded meanwhile: the tracker compares states as it loads. Loaded and gone again: read it afresh.
      if (reading.loaded) return this.#d.isLoaded(docName);
      const tracked = repo.trackedState(docName);
      if (tracked === null || !sameStateVector(tracked, refs.stateVector)) {
        repo.transaction(() => this.#write(roomId, docName, recorded, refs));
        this.#d.logger.info({ docName, messages: refs.held.length }, 'attachments: references of a stored document brought up to its stored state');
      }
      this.#settled.add(docName);
      return true;
    } finally {
      this.#reading = null;
    }
  }

  /** As the tracker handles each message of a document loaded whole (AttachmentTracker.ts). */
  #write(roomId: string, docName: string, recorded: readonly string[], refs: StoredAttachmentRefs): void {
    const { repo } = this.#d;
    const at = this.#now();
    const held = new Set<string>();
    for (const message of refs.held) {
      held.add(message.id);
      repo.setMessageRefs(roomId, docName, message.id, message.attachmentIds, at);
    }
    const present = new Set(refs.present);
    for (const id of recorded) {
      // Deleted here: a deletion wins wherever its rows were written. Gone from here (moved to
      // another document of the room): only the rows written from here go; its new document's stay.
      if (!held.has(id)) repo.dropMessageRefs(docName, id, at, present.has(id));
    }
    repo.recordTracked(docName, refs.stateVector);
  }
}
