import type * as Y from 'yjs';
import type { Logger } from '../log.ts';
import type { Room } from '../sync/Room.ts';
import { DocumentFollower, type FollowerTarget, roomIdOf } from '../sync/DocumentFollower.ts';
import { roomMaps } from '../../shared/roomDoc/layout.ts';
import { heldAttachments } from '../../shared/roomDoc/heldAttachments.ts';
import type { AttachmentRepo } from '../storage/AttachmentRepo.ts';
import type { AsyncApi } from '../storage/AsyncApi.ts';
import { sameStateVector } from '../../shared/yjs/sameStateVector.ts';
import type { RemovalGuard } from './Attachments.ts';

/** A committed change waits this long before its rows are written, so a burst is one transaction. */
export const TRACK_DELAY_MS = 100;
/** Messages handled per background turn (each is one or two indexed statements). */
const MESSAGES_PER_TURN = 500;

/** Whether a raw message value names attachments (cheap: no parsing, for the observer). */
const holdsAttachments = (raw: unknown): boolean => typeof raw === 'object' && raw !== null && 'attachments' in raw;

/** One write of reference rows, read from a document before its transaction (AttachmentRepo's methods of the same names). */
export type RefWrite =
  | { readonly kind: 'set'; readonly roomId: string; readonly docName: string; readonly messageId: string; readonly attachmentIds: readonly string[]; readonly at: number }
  | { readonly kind: 'drop'; readonly docName: string; readonly messageId: string; readonly at: number; readonly anyDocument: boolean }
  | { readonly kind: 'record'; readonly docName: string; readonly stateVector: Uint8Array }
  | { readonly kind: 'forget'; readonly docName: string };

/** Makes one write through `tx` (the repository bound to the caller's transaction). */
export async function applyRefWrite(tx: AsyncApi<AttachmentRepo>, write: RefWrite): Promise<void> {
  switch (write.kind) {
    case 'set':
      return tx.setMessageRefs(write.roomId, write.docName, write.messageId, write.attachmentIds, write.at);
    case 'drop':
      return tx.dropMessageRefs(write.docName, write.messageId, write.at, write.anyDocument);
    case 'record':
      return tx.recordTracked(write.docName, write.stateVector);
    case 'forget':
      return tx.forgetTracked(write.docName);
  }
}

/**
 * Keeps `attachment_refs` (which message holds which upload) in step with the committed room
 * documents, off the sync path, through a DocumentFollower as the SearchIndexer keeps the search
 * index (docs/attachments.md, "Reference tracking"): each loaded document's `messages` and
 * `deletions` are observed only to note ids of messages that hold, or held, attachments; the
 * commit stage marks the document due; a timer reads them from the documents and writes the rows,
 * MESSAGES_PER_TURN at a time in one transaction. A message holding attachments gets a row per
 * attachment; deleted (a tombstone or a deletion record) its rows go, and an upload left with none
 * is released for garbage collection. A message moved to another loaded document of the room keeps
 * its rows (written from the new one). A document loaded in a state other than the one recorded
 * when the rows last held all of it (a crash before its rows were written, a database from before
 * attachments) is scanned whole.
 *
 * Writes take turns (DocumentFollower), and garbage collection's deletions and the stored
 * documents' rows (StoredReferenceScan) take theirs among them (`removing`, `writing`): nothing
 * the tracker read is in flight while they run.
 */
export class AttachmentTracker extends DocumentFollower<RefWrite> {
  readonly #repo: AsyncApi<AttachmentRepo>;

  constructor(deps: { repo: AsyncApi<AttachmentRepo>; logger: Logger; now?: () => number }) {
    super(
      trackerTarget(deps.repo, deps.now ?? Date.now),
      { name: 'attachments', delayMs: TRACK_DELAY_MS, gapMs: TRACK_DELAY_MS, perTurn: MESSAGES_PER_TURN, maxOnUnload: Infinity, dueOnlyWithChanges: true },
      deps.logger,
    );
    this.#repo = deps.repo;
  }

  /**
   * Runs `remove` (garbage collection's deletions) in one transaction, as one of the tracker's
   * writes, after writing in it everything the loaded documents noted, also of changes not
   * committed yet. `guard` lets it write, in the same transaction, whatever is noted while it runs
   * (see Attachments.collect). On PostgreSQL the transaction may run again: each run writes
   * everything taken so far.
   */
  removing<R>(remove: (tx: AsyncApi<AttachmentRepo>, guard: RemovalGuard) => Promise<R>): Promise<R> {
    return this.exclusive((take) =>
      this.#repo.transaction(async (tx) => {
        let written = 0;
        const catchUp = async (): Promise<void> => {
          const writes = take();
          for (; written < writes.length; written++) await applyRefWrite(tx, writes[written]!);
        };
        await catchUp();
        return remove(tx, { noted: (roomId) => this.hasNoted(roomId), catchUp, settled: (roomId) => !this.unchecked(roomId) });
      }),
    );
  }

  /** Runs `job` (writes of reference rows made elsewhere: StoredReferenceScan) as one of the tracker's writes, none of its own in flight meanwhile. */
  writing<R>(job: () => Promise<R>): Promise<R> {
    return this.exclusive(() => job());
  }
}

function trackerTarget(repo: AsyncApi<AttachmentRepo>, now: () => number): FollowerTarget<RefWrite> {
  /** The message as document `room` holds it: its rows, or none once deleted. */
  const writeMessage = (room: Room, id: string, at: number): RefWrite => {
    const held = heldAttachments(roomMaps(room.doc), id);
    if (held.length > 0) return { kind: 'set', roomId: roomIdOf(room), docName: room.roomId, messageId: id, attachmentIds: held.map((a) => a.id), at };
    // Deleted (or never valid): a deletion wins wherever its rows were written.
    return { kind: 'drop', docName: room.roomId, messageId: id, at, anyDocument: true };
  };
  return {
    observe(room, pending) {
      const { messages, deletions } = roomMaps(room.doc);
      const onMessages = (event: Y.YMapEvent<unknown>): void => {
        for (const [key, change] of event.changes.keys) if (holdsAttachments(change.oldValue) || holdsAttachments(messages.get(key))) pending.add(key);
      };
      const onDeletions = (event: Y.YMapEvent<unknown>): void => {
        for (const key of event.changes.keys.keys()) if (holdsAttachments(messages.get(key))) pending.add(key);
      };
      messages.observe(onMessages);
      deletions.observe(onDeletions);
      return () => {
        messages.unobserve(onMessages);
        deletions.unobserve(onDeletions);
      };
    },
    held(room) {
      const ids: string[] = [];
      roomMaps(room.doc).messages.forEach((value, key) => {
        if (holdsAttachments(value)) ids.push(key);
      });
      return ids;
    },
    async recordedUnlessSame(docName, stateVector) {
      const tracked = await repo.trackedState(docName);
      return tracked !== null && sameStateVector(tracked, stateVector) ? null : repo.messagesOf(docName);
    },
    handle(room, id, others) {
      const at = now();
      if (roomMaps(room.doc).messages.has(id)) return [writeMessage(room, id, at)];
      const writes: RefWrite[] = [{ kind: 'drop', docName: room.roomId, messageId: id, at, anyDocument: false }];
      // Moved to another loaded document of the room: its rows are written from there.
      for (const home of others()) {
        if (roomMaps(home.doc).messages.has(id)) {
          writes.push(writeMessage(home, id, at));
          break;
        }
      }
      return writes;
    },
    recordState: (docName, stateVector) => ({ kind: 'record', docName, stateVector }),
    forgetState: (docName) => ({ kind: 'forget', docName }),
    write: (writes) =>
      repo.transaction(async (tx) => {
        for (const write of writes) await applyRefWrite(tx, write);
      }),
  };
}
