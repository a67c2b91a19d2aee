import type { RoomSummaries } from '../RoomSummaries.ts';
import type { CommitStage } from './CommittedBatch.ts';
import { relayUpdates } from './relayUpdates.ts';
import { acknowledgeWriters } from './acknowledgeWriters.ts';
import { notifyCommitListeners } from './notifyCommitListeners.ts';
import { resumeWaiting } from './resumeWaiting.ts';
import { scrubDeletedMessages } from './scrubDeletedMessages.ts';
import { updateRoomSummaries } from './updateRoomSummaries.ts';
import { requestCompaction } from './requestCompaction.ts';

/**
 * What happens after a group commit, in order, for each room in it. Relay and acknowledgement
 * come first: they are the latency every client sees. Command-endpoint events next (in the order
 * the changes were applied), then what waited for the commit (sync step 2 answers, command
 * answers), so a joiner's reply holds every change already announced. The server's own follow-up
 * writes (re-clearing deleted text; moving late writes to their segment, sealing and converting:
 * server/segments/Segmenter.ts) and the REST summaries come after what clients wait for; then
 * the search index (server/search/SearchIndexer.ts: it only marks the room due, the rows are
 * written on a timer) and the attachment references (server/attachments/AttachmentTracker.ts, the
 * same way); compaction, which only schedules work off the sync path, last.
 */
export function commitStages(deps: { summaries: RoomSummaries; segments: CommitStage; search?: CommitStage; attachments?: CommitStage }): readonly CommitStage[] {
  return [
    relayUpdates,
    acknowledgeWriters,
    notifyCommitListeners,
    resumeWaiting,
    scrubDeletedMessages,
    deps.segments,
    updateRoomSummaries(deps.summaries),
    ...(deps.search ? [deps.search] : []),
    ...(deps.attachments ? [deps.attachments] : []),
    requestCompaction,
  ];
}

/** The stages a room needs with no REST projection (tests, tools): relay, ack, listeners, waiters, compaction. */
export const CORE_COMMIT_STAGES: readonly CommitStage[] = [relayUpdates, acknowledgeWriters, notifyCommitListeners, resumeWaiting, requestCompaction];
