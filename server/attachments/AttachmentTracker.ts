import type * as Y from 'yjs';
import type { Logger } from '../log.ts';
import type { Room } from '../sync/Room.ts';
import { DocumentFollower, type FollowerTarget, recordedUnlessSame, roomIdOf } from '../sync/DocumentFollower.ts';
import { roomMaps } from '../../shared/roomDoc/layout.ts';
import { heldAttachments } from '../../shared/roomDoc/heldAttachments.ts';
import type { AttachmentRepo } from '../storage/AttachmentRepo.ts';

/** A committed change waits this long before its rows are written, so a burst is one transaction. */
export const TRACK_DELAY_MS = 100;
/** Messages handled per background turn (each is one or two indexed statements). */
const MESSAGES_PER_TURN = 500;

/** Whether a raw message value names attachments (cheap: no parsing, for the observer). */
const holdsAttachments = (raw: unknown): boolean => typeof raw === 'object' && raw !== null && 'attachments' in raw;

/**
 * Keeps `attachment_refs` (which message holds which upload) in step with the committed room
 * documents, off the sync path, through a DocumentFollower as the SearchIndexer keeps the search
 * index (docs/attachments.md, "Reference tracking"): each loaded document's `messages` and
 * `deletions` are observed only to note ids of messages that hold, or held, attachments; the
 * commit stage marks the document due; a timer writes the rows, MESSAGES_PER_TURN at a time in
 * one transaction. A message holding attachments gets a row per attachment; deleted (a tombstone
 * or a deletion record) its rows go, and an upload left with none is released for garbage
 * collection. A message moved to another loaded document of the room keeps its rows (written
 * from the new one). A document loaded in a state other than the one recorded when the rows last
 * held all of it (a crash before its rows were written, a database from before attachments) is
 * scanned whole.
 */
export class AttachmentTracker extends DocumentFollower {
  constructor(deps: { repo: AttachmentRepo; logger: Logger; now?: () => number }) {
    super(
      trackerTarget(deps.repo, deps.now ?? Date.now),
      { name: 'attachments', delayMs: TRACK_DELAY_MS, gapMs: TRACK_DELAY_MS, perTurn: MESSAGES_PER_TURN, maxOnUnload: Infinity, dueOnlyWithChanges: true },
      deps.logger,
    );
  }
}

function trackerTarget(repo: AttachmentRepo, now: () => number): FollowerTarget {
  /** The message as document `room` holds it: its rows, or none once deleted. */
  const writeMessage = (room: Room, id: string, at: number): void => {
    const held = heldAttachments(roomMaps(room.doc), id);
    if (held.length > 0) repo.setMessageRefs(roomIdOf(room), room.roomId, id, held.map((a) => a.id), at);
    // Deleted (or never valid): a deletion wins wherever its rows were written.
    else repo.dropMessageRefs(room.roomId, id, at, true);
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
    recordedUnlessSame: (docName, stateVector) => recordedUnlessSame(repo.trackedState(docName), stateVector, () => repo.messagesOf(docName)),
    handle(room, id, others) {
      const at = now();
      if (roomMaps(room.doc).messages.has(id)) return writeMessage(room, id, at);
      repo.dropMessageRefs(room.roomId, id, at, false);
      // Moved to another loaded document of the room: its rows are written from there.
      for (const home of others()) {
        if (roomMaps(home.doc).messages.has(id)) return writeMessage(home, id, at);
      }
    },
    recordState: (docName, stateVector) => repo.recordTracked(docName, stateVector),
    forgetState: (docName) => repo.forgetTracked(docName),
    transaction: (fn) => repo.transaction(fn),
  };
}
